"""A practice's own settings: address, contact, bank and VAT details."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.access import current_practice_or_404, may_act_for_practice, roles_required
from tracker.admin.forms import PracticeDetailsForm
from tracker.extensions import db_session
from tracker.models import PRACTICE_ROLES
from tracker.services import practices
from tracker.services.money import parse_decimal
from tracker.services.rates import rate_card as load_rate_card
from tracker.services.rates import update_rate_card

bp = Blueprint("practices", __name__, url_prefix="/practice")


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(*PRACTICE_ROLES)
def settings() -> str | Response:
    practice = current_practice_or_404()
    # bank details are shown in full only to the practice's own manager or finance staff
    can_see_bank = current_user.role_for_practice(practice.id) in PRACTICE_ROLES
    can_edit = may_act_for_practice(practice.id)
    form = PracticeDetailsForm(obj=practice)
    if can_edit and form.validate_on_submit():
        practices.update_details(db_session(), practice, form.data, user_id=current_user.id)
        db_session().commit()
        flash("Your practice details have been saved.", "success")
        return redirect(url_for("practices.settings"))
    return render_template(
        "practices/settings.html",
        form=form,
        practice=practice,
        can_see_bank=can_see_bank,
        can_edit=can_edit,
    )


RATE_GROUPS = (
    ("staff", "Staff time"),
    ("locum", "Locum cover"),
    ("appointments", "Lost appointments"),
    (None, "On-costs"),
)


@bp.route("/rate-card", methods=["GET", "POST"])
@roles_required(*PRACTICE_ROLES)
def rate_card() -> str | Response:
    """The practice's default rates: what cost-line forms prefill. Each shows its source."""
    practice = current_practice_or_404()
    can_edit = may_act_for_practice(practice.id)
    items = load_rate_card(db_session(), practice.id)
    typed: dict[str, tuple[str, str]] = {}
    problems: dict[str, str] = {}
    if request.method == "POST" and can_edit:
        typed = {
            key: (
                request.form.get(f"value-{key}", ""),
                request.form.get(f"source-{key}", item.source),
            )
            for key, item in items.items()
            if f"value-{key}" in request.form
        }
        problems = update_rate_card(
            db_session(),
            practice.id,
            current_user.id,
            {key: (parse_decimal(value), source) for key, (value, source) in typed.items()},
        )
        if not problems:
            db_session().commit()
            flash("Your rate card has been saved. New costs will use these figures.", "success")
            return redirect(url_for("practices.rate_card"))
        db_session().rollback()
        items = load_rate_card(db_session(), practice.id)
    groups = [
        (title, [item for item in items.values() if item.cost_kind == kind])
        for kind, title in RATE_GROUPS
    ]
    return render_template(
        "practices/rate_card.html",
        practice=practice,
        groups=[(title, rows) for title, rows in groups if rows],
        typed=typed,
        problems=problems,
        can_edit=can_edit,
    )
