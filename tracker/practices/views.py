"""A practice's own settings: address, contact, bank and VAT details."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.access import current_practice_or_404, may_act_for_practice, roles_required
from tracker.admin.forms import PracticeDetailsForm
from tracker.extensions import db
from tracker.models import PRACTICE_ROLES
from tracker.services import audit

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
        before = audit.snapshot(practice)
        form.populate_obj(practice)
        if practice.bank_sort_code:
            digits = practice.bank_sort_code.replace("-", "")
            practice.bank_sort_code = f"{digits[:2]}-{digits[2:4]}-{digits[4:]}"
        audit.record(
            db.session,
            user_id=current_user.id,
            entity=practice,
            action="update",
            practice_id=practice.id,
            summary="Practice details changed",
            changes=audit.diff(before, audit.snapshot(practice)),
        )
        db.session.commit()
        flash("Your practice details have been saved.", "success")
        return redirect(url_for("practices.settings"))
    return render_template(
        "practices/settings.html",
        form=form,
        practice=practice,
        can_see_bank=can_see_bank,
        can_edit=can_edit,
    )
