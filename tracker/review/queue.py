"""The work queue (/review/queue): the claims waiting for the user's ICB, oldest first with
the days each has waited against the ICB's target; an approver's sign-off list; assigning
claims to reviewers; the ICB's target. Thin: the rules live in services.work_queue."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.access import claim_icb_ids, holds_icb_role, roles_required
from tracker.extensions import db, db_session
from tracker.models import ICB_ROLES, Icb, Role
from tracker.redirects import safe_next_path
from tracker.review.forms import AssignForm, QueueForm, ReviewTargetForm
from tracker.services import review, work_queue
from tracker.services.dates import today_in_london
from tracker.services.errors import Conflict, Invalid
from tracker.services.text import parse_id
from tracker.view_helpers import add_field_error, query_page

bp = Blueprint("queue", __name__)
icb_staff = roles_required(*ICB_ROLES)


@bp.route("/review/queue")
@icb_staff
def index() -> tuple[str, int]:
    return _render_queue()


def _render_queue(
    target_form: tuple[int, ReviewTargetForm] | None = None, status: int = 200
) -> tuple[str, int]:
    """The queue page; `target_form` is an ICB's target form sent back with its error."""
    icb_ids = claim_icb_ids()
    form = QueueForm(request.args)
    show = work_queue.Show(form.show.data) if form.validate() else work_queue.Show.ALL
    today = today_in_london()
    session = db_session()
    icbs = list(session.scalars(db.select(Icb).where(Icb.id.in_(icb_ids)).order_by(Icb.name)))
    approver_of = [icb for icb in icbs if holds_icb_role(icb.id, Role.ICB_FINANCE_APPROVER)]
    target_forms = {icb.id: ReviewTargetForm(formdata=None, obj=icb) for icb in approver_of}
    if target_form is not None:
        target_forms[target_form[0]] = target_form[1]
    html = render_template(
        "review/queue.html",
        form=form,
        show=show,
        icbs=icbs,
        queue=work_queue.review_queue(
            session, icb_ids, show=show, user_id=current_user.id, today=today, page=query_page()
        ),
        sign_off=(
            work_queue.sign_off_queue(session, [icb.id for icb in approver_of], today=today)
            if approver_of
            else None
        ),
        target_forms=target_forms,
        assignees={icb_id: work_queue.reviewers_of(session, icb_id) for icb_id in icb_ids},
        args={k: v for k, v in request.args.items() if k != "page" and v},
    )
    return html, status


@bp.route("/review/claims/<int:invoice_id>/assign", methods=["POST"])
@icb_staff
def assign(invoice_id: int) -> Response:
    """Assign a claim of the user's ICB to one of its reviewers, or to no one; back to the
    page the form was on."""
    claim = review.claim_for_reviewer(db_session(), invoice_id, claim_icb_ids())
    if claim is None:
        abort(404)
    if not holds_icb_role(claim.icb_id, *ICB_ROLES):
        abort(403)
    form = AssignForm()
    form.assignee.choices = [(0, "No one")] + [
        (user.id, user.name) for user in work_queue.reviewers_of(db_session(), claim.icb_id)
    ]
    back = redirect(safe_next_path(form.next.data) or url_for("review.claim", invoice_id=claim.id))
    if not form.validate_on_submit():
        problems = [error for field in form for error in field.errors]
        flash(str(problems[0]) if problems else "Choose whom to assign the claim to", "error")
        return back
    try:
        work_queue.assign(
            db_session(),
            claim,
            assignee_id=form.assignee.data or None,
            seen_assignee_id=parse_id(form.seen.data),
            user_id=current_user.id,
        )
        db_session().commit()
    except (Conflict, Invalid) as error:
        db_session().rollback()
        flash(error.message, "error")
    else:
        who = claim.assigned_to.name if claim.assigned_to else "no one"
        flash(f"Claim {claim.number} is now assigned to {who}.", "success")
    return back


@bp.route("/review/queue/target/<int:icb_id>", methods=["POST"])
@roles_required(Role.ICB_FINANCE_APPROVER)
def target(icb_id: int) -> Response | tuple[str, int]:
    """The ICB's finance approver sets how many days a claim may wait before it is flagged.
    Theirs rather than the reviewers' to set: the target measures the reviewers' own work
    (administrators set it too, with the rest of the ICB's details in the directory)."""
    if not holds_icb_role(icb_id, Role.ICB_FINANCE_APPROVER):
        abort(404)
    icb = db.get_or_404(Icb, icb_id)
    form = ReviewTargetForm()
    if form.validate_on_submit():
        try:
            work_queue.set_review_target(
                db_session(), icb, form.review_target_days.data, user_id=current_user.id
            )
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            add_field_error(form.review_target_days, error.message)
        else:
            flash(
                f"Claims waiting more than {icb.review_target_days} days are now flagged.",
                "success",
            )
            return redirect(url_for("queue.index"))
    return _render_queue((icb_id, form), 400)
