"""ICB review: the claims list, a claim's lines and their decisions, two-step sign-off, the
work queue, and the practice's view of the decisions with its answers to queries. Thin: the
rules live in services.review, services.sign_off and services.work_queue."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.access import (
    claim_icb_ids,
    deciding_icb_ids,
    event_or_404,
    evidence_or_404,
    holds_icb_role,
    may_act_for_practice,
    practice_condition,
    roles_required,
)
from tracker.extensions import db, db_session
from tracker.models import (
    ICB_ROLES,
    ClaimPolicy,
    CostKind,
    DocumentKind,
    EventStatus,
    Icb,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    OutageEvent,
    Role,
)
from tracker.presentation import format_number, size_text
from tracker.review.forms import (
    AnswerForm,
    ClaimFilterForm,
    LineDecisionForm,
    PolicyForm,
    SendBackForm,
)
from tracker.services import (
    claim_policy,
    crediting,
    evidence,
    peers,
    review,
    settlement,
    sign_off,
    work_queue,
)
from tracker.services import events as event_service
from tracker.services.claim_checks import CAPS, DEFAULT_WINDOW_DAYS
from tracker.services.dates import today_in_london
from tracker.services.errors import Conflict, DomainError, Invalid, Unavailable
from tracker.services.money import parse_decimal
from tracker.view_helpers import (
    query_page,
    say_file_not_kept,
    send_evidence,
    show_domain_error,
    show_domain_errors,
)

bp = Blueprint("review", __name__)
#: ICB reviewers and finance approvers read their ICB's claims; administrators read every ICB's
icb_readers = roles_required(*ICB_ROLES, admin=True)
reviewers = roles_required(Role.ICB_REVIEWER)
approvers = roles_required(Role.ICB_FINANCE_APPROVER)
PER_PAGE = 25


def _icb_ids() -> list[int]:
    return claim_icb_ids()


def _claim_or_404(invoice_id: int) -> Invoice:
    claim = review.claim_for_reviewer(db_session(), invoice_id, _icb_ids())
    if claim is None:
        abort(404)
    return claim


WITHDRAWN = (
    "Claim {number} was withdrawn by a credit note: it can no longer be reviewed, and "
    "decisions on its lines cannot be recorded or changed."
)


def _withdrawn(claim: Invoice) -> Response | None:
    """Back to the claim, saying why, when a reviewer tries to decide a claim that is
    withdrawn, or recommended or authorised (two-step sign-off)."""
    if claim.status != InvoiceStatus.ISSUED:
        message = WITHDRAWN.format(number=claim.number)
    elif (signed_off := review.signed_off_reason(claim)) is not None:
        message = signed_off
    else:
        return None
    flash(message, "error")
    return redirect(url_for("review.claim", invoice_id=claim.id))


def _may_decide(claim: Invoice) -> bool:
    """Reviewers of the claim's ICB decide, until the claim is recommended; administrators
    and approvers only read."""
    return holds_icb_role(claim.icb_id, Role.ICB_REVIEWER) and review.decisions_open(claim)


@bp.route("/review")
@icb_readers
def index() -> str:
    icb_ids = _icb_ids()
    form = ClaimFilterForm(request.args)
    events, practices = review.filter_choices(db_session(), icb_ids)
    form.outage_event_id.choices = [(0, "All outage events")] + [(e.id, e.name) for e in events]
    form.practice_id.choices = [(0, "All practices")] + [
        (p.id, f"{p.name} ({p.ods_code})") for p in practices
    ]
    filters = review.ClaimFilters()
    if form.validate():
        filters = review.ClaimFilters(
            outage_event_id=form.outage_event_id.data or None,
            practice_id=form.practice_id.data or None,
            review_status=form.review_status.data or None,
            issued_from=form.issued_from.data,
            issued_to=form.issued_to.data,
        )
    page = query_page()
    claims = review.list_claims(
        db_session(), icb_ids, filters, page=page, per_page=PER_PAGE, today=today_in_london()
    )
    checks = claim_policy.check_claims(db_session(), [row.invoice.id for row in claims.rows])
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    deciding = deciding_icb_ids()
    proposed = event_service.waiting_count(db_session(), deciding) if deciding else 0
    return render_template(
        "review/index.html", form=form, claims=claims, args=args, checks=checks, proposed=proposed
    )


@bp.route("/review/claims/<int:invoice_id>")
@icb_readers
def claim(invoice_id: int) -> tuple[str, int]:
    return _render_claim(_claim_or_404(invoice_id))


def _render_claim(
    claim: Invoice, send_back_form: SendBackForm | None = None, status: int = 200
) -> tuple[str, int]:
    """The claim as ICB users see it, with what the user may do next: decide lines,
    recommend (reviewers), authorise or send back (approvers), assign it to a reviewer while
    it is with the reviewers (both)."""
    is_reviewer = holds_icb_role(claim.icb_id, Role.ICB_REVIEWER)
    is_approver = holds_icb_role(claim.icb_id, Role.ICB_FINANCE_APPROVER)
    stage = review.sign_off_stage(claim)
    issued = claim.status == InvoiceStatus.ISSUED
    checks = claim_policy.check_claims(db_session(), [claim.id])[claim.id]
    may_decide = _may_decide(claim)
    return render_template(
        "review/claim.html",
        claim=claim,
        review=review.icb_view(claim),
        messages=review.messages_by_line(db_session(), claim.id),
        evidence=review.evidence_by_line(db_session(), claim.id),
        may_decide=may_decide,
        checks=checks,
        bulk=claim_policy.bulk_choices(claim, checks) if may_decide else None,
        peers=peers.for_claim(db_session(), claim),
        settlement=settlement.claim_settlement(db_session(), claim, today_in_london()),
        credited={b.line.id: b.credited for b in crediting.line_balances(db_session(), claim)},
        may_recommend=is_reviewer and issued and stage is review.SignOff.TO_RECOMMEND,
        may_authorise=is_approver and issued and stage is review.SignOff.RECOMMENDED,
        recommended_it=claim.recommended_by_id == current_user.id,
        send_back_form=send_back_form or SendBackForm(formdata=None),
        assignees=work_queue.reviewers_of(db_session(), claim.icb_id)
        if (is_reviewer or is_approver) and review.decisions_open(claim)
        else None,
    ), status


@bp.route("/review/claims/<int:invoice_id>/lines/<int:line_id>", methods=["GET", "POST"])
@reviewers
def decide(invoice_id: int, line_id: int) -> str | Response:
    claim = _claim_or_404(invoice_id)
    line = next((ln for ln in claim.lines if ln.id == line_id), None)
    if line is None:
        abort(404)
    if (back := _withdrawn(claim)) is not None:
        return back
    if not _may_decide(claim):
        abort(403)
    form = LineDecisionForm(obj=line.decision)
    if request.method == "GET" and line.decision is not None:
        amount = line.decision.approved_amount
        form.approved_amount.data = (
            f"{amount:.2f}" if line.decision.decision == "part_approved" and amount else ""
        )
    if form.validate_on_submit():
        data = review.LineDecisionInput(
            decision=form.decision.data,
            approved_amount=parse_decimal(form.approved_amount.data),
            reason=form.reason.data or "",
        )
        try:
            review.decide_line(db_session(), claim, line, data, user_id=current_user.id)
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            flash(
                f"Line {line.position} {review.decision_label(data.decision).lower()}.",
                "success",
            )
            return redirect(url_for("review.claim", invoice_id=claim.id, _anchor=f"line-{line.id}"))
    return render_template(
        "review/decide.html",
        claim=claim,
        line=line,
        form=form,
        flags=claim_policy.check_claims(db_session(), [claim.id])[claim.id].flags.get(line.id, []),
        messages=review.messages_by_line(db_session(), claim.id).get(line.id, []),
        evidence=review.evidence_by_line(db_session(), claim.id).get(line.id, []),
    )


@bp.route("/review/claims/<int:invoice_id>/approve-remaining", methods=["POST"])
@reviewers
def approve_remaining(invoice_id: int) -> Response:
    claim = _claim_or_404(invoice_id)
    if (back := _withdrawn(claim)) is not None:
        return back
    if not _may_decide(claim):
        abort(403)
    count = review.approve_remaining(db_session(), claim, user_id=current_user.id)
    db_session().commit()
    if count:
        flash(f"{count} line{'s' if count != 1 else ''} approved in full.", "success")
    else:
        flash("No line was left to approve: every line already has a decision.", "info")
    return redirect(url_for("review.claim", invoice_id=claim.id))


# --- two-step sign-off ----------------------------------------------------------------------


def _sign_off_step(claim: Invoice, step: Callable[[], None], done: str) -> Response:
    """Run a sign-off step, commit, and go back to the claim saying what happened; a step
    someone else's action made impossible a moment ago is said there too, not as an error."""
    try:
        step()
        db_session().commit()
    except (Conflict, Invalid) as error:
        db_session().rollback()
        flash(error.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("review.claim", invoice_id=claim.id))


def _claim_of_own_icb(invoice_id: int, role: Role) -> Invoice:
    """A claim the user reads, of an ICB where they hold `role` (403 otherwise)."""
    claim = _claim_or_404(invoice_id)
    if not holds_icb_role(claim.icb_id, role):
        abort(403)
    return claim


@bp.route("/review/claims/<int:invoice_id>/recommend", methods=["POST"])
@reviewers
def recommend(invoice_id: int) -> Response:
    claim = _claim_of_own_icb(invoice_id, Role.ICB_REVIEWER)
    return _sign_off_step(
        claim,
        lambda: sign_off.recommend(db_session(), claim, user_id=current_user.id),
        f"Claim {claim.number} recommended: an ICB finance approver will authorise it.",
    )


@bp.route("/review/claims/<int:invoice_id>/authorise", methods=["POST"])
@approvers
def authorise(invoice_id: int) -> Response:
    claim = _claim_of_own_icb(invoice_id, Role.ICB_FINANCE_APPROVER)
    return _sign_off_step(
        claim,
        lambda: sign_off.authorise(db_session(), claim, user_id=current_user.id),
        f"Claim {claim.number} authorised: the practice now sees the ICB's decisions.",
    )


@bp.route("/review/claims/<int:invoice_id>/send-back", methods=["POST"])
@approvers
def send_back(invoice_id: int) -> Response | tuple[str, int]:
    claim = _claim_of_own_icb(invoice_id, Role.ICB_FINANCE_APPROVER)
    form = SendBackForm()
    if not form.validate_on_submit():
        return _render_claim(claim, form, 400)
    try:
        sign_off.send_back(
            db_session(), claim, user_id=current_user.id, reason=form.reason.data or ""
        )
        db_session().commit()
    except Invalid as error:
        db_session().rollback()
        show_domain_error(form, error)
        return _render_claim(claim, form, 400)
    except Conflict as error:
        db_session().rollback()
        flash(error.message, "error")
    else:
        flash(f"Claim {claim.number} sent back to the reviewers.", "success")
    return redirect(url_for("review.claim", invoice_id=claim.id))


def _bulk(invoice_id: int, decide: claim_policy.BulkDecision, done: str, none: str) -> Response:
    """A bulk decision on a claim (services.claim_policy), then back to the claim."""
    claim = _claim_or_404(invoice_id)
    if (back := _withdrawn(claim)) is not None:
        return back
    if not _may_decide(claim):
        abort(403)
    count = decide(db_session(), claim, user_id=current_user.id)
    db_session().commit()
    if count:
        flash(done.format(count=count, s="" if count == 1 else "s"), "success")
    else:
        flash(none, "info")
    return redirect(url_for("review.claim", invoice_id=claim.id))


@bp.route("/review/claims/<int:invoice_id>/approve-passing", methods=["POST"])
@roles_required(Role.ICB_REVIEWER, admin=False)
def approve_passing(invoice_id: int) -> Response:
    return _bulk(
        invoice_id,
        claim_policy.approve_passing,
        "{count} line{s} that pass the checks approved in full.",
        "No undecided line passes every check: nothing was approved.",
    )


@bp.route("/review/claims/<int:invoice_id>/part-approve-at-cap", methods=["POST"])
@roles_required(Role.ICB_REVIEWER, admin=False)
def part_approve_at_cap(invoice_id: int) -> Response:
    return _bulk(
        invoice_id,
        claim_policy.part_approve_at_caps,
        "{count} line{s} over a cap part-approved at the cap.",
        "No undecided line is over a cap (and flagged for nothing else): nothing was decided.",
    )


# --- the ICB's claim policy for an outage event ----------------------------------------------


def _reviewer_icb_or_404() -> Icb:
    """The ICB the reviewer writes a policy for: theirs (`?icb=` when they have several)."""
    own: list[Icb] = [m.icb for m in current_user.memberships if m.icb is not None]
    asked = request.values.get("icb")
    found = next((icb for icb in own if asked is None or str(icb.id) == asked), None)
    if found is None:
        abort(404)
    return found


def _fill_policy_form(form: PolicyForm, latest: ClaimPolicy | None) -> None:
    """The version in force, or a new policy's defaults: everything claimable, the
    incident page's window of days, no caps."""
    if latest is None:
        form.claimable.data = list(claim_policy.KIND_ORDER)
        form.window_days.data = str(DEFAULT_WINDOW_DAYS)
        form.seen_version.data = "0"
        return
    form.claimable.data = claim_policy.kinds(latest)
    caps = {cap.key: cap.amount for cap in latest.caps}
    for spec in CAPS:
        amount = caps.get(spec.key)
        form[f"cap_{spec.key}"].data = f"{amount:.2f}" if amount is not None else ""
    form.evidence_above.data = (
        f"{latest.evidence_above:.2f}" if latest.evidence_above is not None else ""
    )
    form.max_hours_per_day.data = (
        format_number(latest.max_hours_per_day) if latest.max_hours_per_day is not None else ""
    )
    form.window_days.data = "" if latest.window_days is None else str(latest.window_days)
    form.deadline.data = latest.deadline
    form.seen_version.data = str(latest.version)


def _policy_input(form: PolicyForm) -> claim_policy.PolicyInput:
    caps = {
        spec.key: amount
        for spec in CAPS
        if (amount := parse_decimal(form[f"cap_{spec.key}"].data)) is not None
    }
    days = form.window_days.data
    return claim_policy.PolicyInput(
        claimable=frozenset(form.claimable.data or []),
        caps=caps,
        deadline=form.deadline.data,
        window_days=int(days) if days and days.isdigit() and len(days) < 6 else None,
        evidence_above=parse_decimal(form.evidence_above.data),
        max_hours_per_day=parse_decimal(form.max_hours_per_day.data),
    )


def _policy_problems(form: PolicyForm, event: OutageEvent) -> bool:
    """Show every problem of the typed policy beside its field; True when there were any."""
    problems = claim_policy.policy_problems(_policy_input(form), event)
    show_domain_errors(form, problems)
    return bool(problems)


@bp.route("/review/events/<int:event_id>/policy", methods=["GET", "POST"])
@roles_required(Role.ICB_REVIEWER, admin=False)
def policy(event_id: int) -> str | Response:
    """The ICB's claim policy for an outage event: the version in force, its history, and
    the form that saves the next version."""
    event = event_or_404(event_id)
    if event.status != EventStatus.CONFIRMED:
        flash(claim_policy.NOT_CONFIRMED, "error")
        return redirect(url_for("incidents.event", event_id=event.id))
    icb = _reviewer_icb_or_404()
    history = claim_policy.versions(db_session(), event.id, icb.id)
    latest = history[0] if history else None
    form = PolicyForm()
    if request.method == "GET":
        _fill_policy_form(form, latest)
    elif form.validate_on_submit() and not _policy_problems(form, event):
        seen = form.seen_version.data or ""
        try:
            saved = claim_policy.save_policy(
                db_session(),
                event,
                icb,
                _policy_input(form),
                seen_version=int(seen) if seen.isdigit() and len(seen) < 9 else -1,
                user_id=current_user.id,
            )
            db_session().commit()
        except (Invalid, Conflict) as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            if saved is None:
                flash("Nothing changed: the policy in force stays as it was.", "info")
            else:
                flash(f"Version {saved.version} of the policy is in force.", "success")
            return redirect(url_for("review.policy", event_id=event.id, icb=icb.id))
    return render_template(
        "review/policy.html",
        form=form,
        event=event,
        icb=icb,
        history=history,
        current=claim_policy.view(latest, icb.name, event.name) if latest else None,
        kinds=[kind.value for kind in CostKind],
    )


@bp.route("/review/policies/<int:policy_id>")
@roles_required(Role.ICB_REVIEWER, admin=False)
def policy_version(policy_id: int) -> str:
    """One saved version of a policy, as it read: only for reviewers of its ICB."""
    own = [m.icb_id for m in current_user.memberships if m.icb_id is not None]
    found = claim_policy.version_for_icbs(db_session(), policy_id, own)
    if found is None:
        abort(404)
    return render_template(
        "review/policy_version.html",
        version=claim_policy.view(found, found.icb.name, found.outage_event.name),
    )


# --- the practice's side -------------------------------------------------------------------


def _own_claim_or_404(invoice_id: int) -> Invoice:
    """An issued (or withdrawn) invoice of one of the user's practices."""
    claim: Invoice = db.first_or_404(
        review.claim_query(invoice_id).where(
            practice_condition(Invoice.practice_id),
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.status.in_((InvoiceStatus.ISSUED, InvoiceStatus.CANCELLED)),
        )
    )
    return claim


@bp.route("/claims/<int:invoice_id>/feedback")
def feedback(invoice_id: int) -> str:
    claim = _own_claim_or_404(invoice_id)
    return render_template(
        "review/feedback.html",
        claim=claim,
        messages=review.messages_by_line(db_session(), claim.id),
        evidence=review.evidence_by_line(db_session(), claim.id),
        may_answer=may_act_for_practice(claim.practice_id) and not current_user.is_admin,
        form=AnswerForm(),
        review=review.practice_view(claim),
        to_credit=(
            crediting.disallowed_total(db_session(), claim)
            if may_act_for_practice(claim.practice_id, frozenset({Role.FINANCE}))
            else None
        ),
    )


@bp.route("/claims/<int:invoice_id>/lines/<int:line_id>/answer", methods=["GET", "POST"])
def answer(invoice_id: int, line_id: int) -> str | Response:
    claim = _own_claim_or_404(invoice_id)
    line = (
        db_session()
        .scalars(
            select(InvoiceLine).where(InvoiceLine.id == line_id, InvoiceLine.invoice_id == claim.id)
        )
        .first()
    )
    if line is None:
        abort(404)
    if current_user.is_admin or not may_act_for_practice(claim.practice_id):
        abort(403)
    form = AnswerForm()
    if form.validate_on_submit():
        prepared = None
        try:
            upload = form.evidence.data
            if upload and getattr(upload, "filename", ""):
                prepared = evidence.prepare(
                    current_app.config["UPLOAD_FOLDER"],
                    upload.filename,
                    upload.stream,
                    current_app.config["MAX_UPLOAD_BYTES"],
                )
            review.add_message(
                db_session(),
                claim,
                body=form.body.data or "",
                user_id=current_user.id,
                line=line,
                upload=prepared,
            )
            db_session().commit()
        except DomainError as error:
            db_session().rollback()
            if prepared is not None:
                prepared.discard()
            if not isinstance(error, Invalid | Unavailable):
                raise  # a conflict or a missing line: the error page says so
            show_domain_error(form, error)
        else:
            flash("Your answer has been sent to the ICB.", "success")
            return redirect(
                url_for("review.feedback", invoice_id=claim.id, _anchor=f"line-{line.id}")
            )
    if form.is_submitted():
        say_file_not_kept(form, form.evidence)
    decision = review.decision_for_practice(claim, line)
    return render_template(
        "review/answer.html",
        max_upload=size_text(current_app.config["MAX_UPLOAD_BYTES"]),
        claim=claim,
        line=line,
        query=decision if decision and decision.decision == review.Decision.QUERIED else None,
        form=form,
        messages=review.messages_by_line(db_session(), claim.id).get(line.id, []),
    )


@bp.route("/claims/<int:invoice_id>/evidence/<int:evidence_id>")
def answer_evidence(invoice_id: int, evidence_id: int) -> Response:
    """A file the practice attached to an answer: for the practice's members and those who
    read claims sent to the claim's ICB (access.evidence_or_404)."""
    item = evidence_or_404(evidence_id, claim_id=invoice_id)
    return send_evidence(item)
