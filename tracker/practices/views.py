"""A practice's own settings: address, contact, bank and VAT details."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.access import current_practice_or_404, may_act_for_practice, roles_required
from tracker.admin.forms import PracticeDetailsForm
from tracker.extensions import db_session
from tracker.models import PRACTICE_ROLES, Practice
from tracker.practices.forms import OwnRateForm
from tracker.services import practices
from tracker.services.dates import today_in_london
from tracker.services.money import parse_decimal
from tracker.services.rates import OwnRate, period_text, standing, update_rate_card
from tracker.services.rates import add_own_rate as add_own_rate_service
from tracker.services.rates import rate_card as load_rate_card

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


def _rate_card_page(
    practice: Practice,
    can_edit: bool,
    typed: dict[str, tuple[str, str]] | None = None,
    problems: dict[str, str] | None = None,
    own_form: OwnRateForm | None = None,
) -> str:
    items = load_rate_card(db_session(), practice.id)
    today = today_in_london()
    # `carried`: ended rates still used because no later one replaces them yet
    current, carried = standing(items, today)
    groups = [
        (title, [item for item in items if item.cost_kind == kind]) for kind, title in RATE_GROUPS
    ]
    form = own_form or OwnRateForm()
    labels: dict[str, str] = {}
    for item in items:
        labels.setdefault(item.key, item.label)
    form.key.choices = [("", "Choose a rate"), *labels.items()]
    return render_template(
        "practices/rate_card.html",
        practice=practice,
        groups=[(title, rows) for title, rows in groups if rows],
        typed=typed or {},
        problems=problems or {},
        can_edit=can_edit,
        current=current,
        carried=carried,
        period_text=period_text,
        own_form=form,
        today=today,
    )


@bp.route("/rate-card", methods=["GET", "POST"])
@roles_required(*PRACTICE_ROLES)
def rate_card() -> str | Response:
    """The practice's rates by period: what cost lines are priced with. Each shows its
    source; the rate in force today is marked."""
    practice = current_practice_or_404()
    can_edit = may_act_for_practice(practice.id)
    if request.method != "POST" or not can_edit:
        return _rate_card_page(practice, can_edit)
    items = load_rate_card(db_session(), practice.id)
    typed = {
        str(item.id): (
            request.form.get(f"value-{item.id}", ""),
            request.form.get(f"source-{item.id}", item.source),
        )
        for item in items
        if f"value-{item.id}" in request.form
    }
    problems = update_rate_card(
        db_session(),
        practice.id,
        current_user.id,
        {key: (parse_decimal(value), source) for key, (value, source) in typed.items()},
    )
    if problems:
        db_session().rollback()
        return _rate_card_page(practice, can_edit, typed, problems)
    db_session().commit()
    flash(
        "Your rate card has been saved. New and edited costs will use these figures; "
        "costs already priced keep theirs.",
        "success",
    )
    return redirect(url_for("practices.rate_card"))


@bp.route("/rate-card/own", methods=["POST"])
@roles_required(*PRACTICE_ROLES)
def add_own_rate() -> str | Response:
    """Add the practice's own rate from a date: a pay rise, its actual pay."""
    practice = current_practice_or_404()
    if not may_act_for_practice(practice.id):
        abort(403)
    form = OwnRateForm()
    form.key.choices = []
    form.validate()
    typed = OwnRate(
        key=form.key.data or "",
        valid_from=form.valid_from.data,
        value=parse_decimal(form.value.data),
        source=form.source.data or "",
    )
    problems = add_own_rate_service(db_session(), practice.id, current_user.id, typed)
    if form.valid_from.errors:
        problems["valid_from"] = form.valid_from.errors[0]
    if problems:
        db_session().rollback()
        for name, message in problems.items():
            getattr(form, name).errors = [message]
        return _rate_card_page(practice, True, own_form=form)
    db_session().commit()
    flash("Your own rate has been added. Costs dated from then on will use it.", "success")
    return redirect(url_for("practices.rate_card") + "#own-rate")
