"""The one guard every view uses to see only what the signed-in user may see.

Practice data (incidents, costs, rate cards, drafts, evidence) belongs to the practice's
members only. An issued invoice (a claim) is also read by the reviewers of the ICB it was
sent to, and, for national oversight, by administrators, who otherwise manage users, practices
and the ICB directory but do not see or change a practice's own data (unless they are also a
member). "Sent to" is the invoice's own `icb_id`, recorded at issue with the customer
snapshot: a practice that later moves ICB does not take its old claims, or their receipts, to
the new ICB (`claim_icb_ids`, `readable_claims` and `evidence_or_404` are the one check every
reviewer route uses). Anything outside a user's scope answers 404, so ids cannot be probed
(OWASP ASVS 4.0.3 V4.2.1: access to records is checked against the user, not the id).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.orm.interfaces import ORMOption

from tracker.extensions import db, db_session
from tracker.models import (
    ICB_ROLES,
    PRACTICE_ROLES,
    ClaimMessage,
    CostLine,
    EventStatus,
    Evidence,
    Icb,
    Invoice,
    InvoiceStatus,
    OutageEvent,
    Practice,
    Role,
    User,
)
from tracker.services import events
from tracker.services.incidents import event_owners
from tracker.services.review import claim_condition

T = TypeVar("T")
SESSION_PRACTICE_KEY = "practice_id"
CURRENT_PRACTICE_KEY = "tracker.current_practice"


def practice_ids_for(user: User, roles: frozenset[Role] | None = None) -> list[int]:
    """Ids of the practices whose own data the user may see: those they are a member of
    (with `roles`, only those where they hold one of them)."""
    return [
        m.practice_id
        for m in user.memberships
        if m.practice_id is not None and (roles is None or Role(m.role) in roles)
    ]


def icb_ids_for(user: User) -> list[int]:
    """Ids of the ICBs whose claims the user may review (all of them for admins)."""
    if user.is_admin:
        return list(db_session().scalars(select(Icb.id)))
    return [m.icb_id for m in user.memberships if m.icb_id is not None]


def claim_icb_ids(user: User | None = None) -> list[int]:
    """Ids of the ICBs whose claims the user may read: an ICB reviewer's or ICB finance
    approver's own ICB, every ICB for an administrator, none for anyone else (a practice
    user reads their claims as a member of the practice, never through an ICB)."""
    user = user or current_user
    if not (user.is_admin or user.has_role(*ICB_ROLES)):
        return []
    return icb_ids_for(user)


def holds_icb_role(icb_id: int, *roles: Role) -> bool:
    """Whether the signed-in user holds one of `roles` at the ICB `icb_id` (an administrator
    holds none by being one): who may decide, sign off or assign that ICB's claims."""
    return any(m.icb_id == icb_id and Role(m.role) in roles for m in current_user.memberships)


def readable_claims(user: User | None = None) -> ColumnElement[bool]:
    """A WHERE clause on Invoice: issued invoices and credit notes sent to an ICB whose claims
    the user reads. The ICB is the invoice's own, fixed at issue, not the practice's today."""
    ids = claim_icb_ids(user)
    if not ids:
        return false()
    return and_(Invoice.icb_id.in_(ids), Invoice.status != InvoiceStatus.DRAFT)


def practice_condition(column: Any, user: User | None = None) -> ColumnElement[bool]:
    """A WHERE clause limiting `column` (a practice id column) to the user's practices."""
    user = user or current_user
    ids = practice_ids_for(user)
    return column.in_(ids) if ids else false()


def scoped(stmt: Select[Any], column: Any) -> Select[Any]:
    """Add the practice scope to a query."""
    return stmt.where(practice_condition(column))


def get_for_practice_or_404(model: type[T], object_id: int, *options: ORMOption) -> T:
    """Fetch a model that has a `practice_id` column, within the user's practices; `options`
    load what the page shows with it (selectinload) in a fixed number of queries."""
    practice_column = model.practice_id  # type: ignore[attr-defined]
    stmt = select(model).where(model.id == object_id).options(*options)  # type: ignore[attr-defined]
    found: T = db.first_or_404(scoped(stmt, practice_column))
    return found


def current_practice() -> Practice | None:
    """The practice the user is working as: chosen in the switcher, else their first. Found
    once a request (the view and the page's header both ask), among the practices loaded
    with the user (app_factory.USER_WITH_MEMBERSHIPS), so it costs no query."""
    # kept in the request's environ, not in g: g outlives a request where an application
    # context was already open (a CLI command, a test), and another request may switch
    if not has_request_context():
        return _current_practice()
    if CURRENT_PRACTICE_KEY not in request.environ:
        request.environ[CURRENT_PRACTICE_KEY] = _current_practice()
    practice: Practice | None = request.environ[CURRENT_PRACTICE_KEY]
    return practice


def _current_practice() -> Practice | None:
    if not current_user.is_authenticated:
        return None
    chosen = session.get(SESSION_PRACTICE_KEY)
    ids = practice_ids_for(current_user)
    if not ids:
        return None
    return db_session().get(Practice, chosen if chosen in ids else ids[0])


def switchable_practices() -> list[Practice]:
    """The practices offered in the header's "Working as" switcher."""
    practices: list[Practice] = current_user.practices
    return practices


def current_practice_or_404() -> Practice:
    practice = current_practice()
    if practice is None:
        abort(404)
    return practice


def may_act_for_practice(practice_id: int, roles: frozenset[Role] = PRACTICE_ROLES) -> bool:
    """Whether the user holds one of `roles` at the practice."""
    role = current_user.role_for_practice(practice_id)
    return role is not None and role in roles


def roles_required(
    *roles: Role, admin: bool = False
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Refuse (403) users holding none of `roles`; administrators pass when `admin` is set."""

    def decorator(view: Callable[..., T]) -> Callable[..., T]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> T:
            if not (admin and current_user.is_admin) and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def admin_required(view: Callable[..., T]) -> Callable[..., T]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> T:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def invoice_or_404(invoice_id: int, *, reviewers: bool = False) -> Invoice:
    """An invoice of one of the user's practices; with `reviewers`, also an issued (not
    draft) invoice sent to an ICB whose claims the user reads."""
    condition = practice_condition(Invoice.practice_id)
    if reviewers:
        condition = or_(condition, readable_claims())
    invoice: Invoice = db.first_or_404(select(Invoice).where(Invoice.id == invoice_id, condition))
    return invoice


def _files_on_readable_claims(icb_ids: list[int]) -> ColumnElement[bool]:
    """A WHERE clause on Evidence: receipts of cost lines held by a standing claim (issued,
    not withdrawn) sent to one of `icb_ids`, and files the practice attached to its answers
    on a claim sent to one of them. Both go through the invoice's ICB, never the practice's."""
    standing_claims = select(Invoice.id).where(
        claim_condition(icb_ids), Invoice.status == InvoiceStatus.ISSUED
    )
    answered_claims = select(Invoice.id).where(claim_condition(icb_ids))
    return or_(
        Evidence.cost_line_id.in_(
            select(CostLine.id).where(CostLine.invoice_id.in_(standing_claims))
        ),
        Evidence.claim_message_id.in_(
            select(ClaimMessage.id).where(ClaimMessage.invoice_id.in_(answered_claims))
        ),
    )


def evidence_or_404(evidence_id: int, *, claim_id: int | None = None) -> Evidence:
    """An evidence file the user may download: any file of their own practices; for those
    who read claims (`claim_icb_ids`), the files on claims sent to those ICBs. With
    `claim_id`, only a file attached to an answer on that claim."""
    condition = practice_condition(Evidence.practice_id)
    icb_ids = claim_icb_ids()
    if icb_ids:
        condition = or_(condition, _files_on_readable_claims(icb_ids))
    stmt = select(Evidence).where(Evidence.id == evidence_id, condition)
    if claim_id is not None:
        stmt = stmt.where(
            Evidence.claim_message_id.in_(
                select(ClaimMessage.id).where(ClaimMessage.invoice_id == claim_id)
            )
        )
    found: Evidence = db.first_or_404(stmt)
    return found


def may_add_events() -> bool:
    """ICB reviewers and administrators add outage events; practices pick from them."""
    return bool(current_user.is_admin or current_user.has_role(Role.ICB_REVIEWER))


def editable_event_ids(event_ids: list[int]) -> set[int]:
    """The outage events the user may rename or redate: every one for an administrator; for
    an ICB reviewer, only those that belong to their own ICB (services.incidents.event_owners).
    A national event is shared by other ICBs' practices and reports, so one ICB's reviewer
    changing it would change it for all of them (OWASP ASVS 4.0.3 V4.1.3: least privilege)."""
    if current_user.is_admin:
        return set(event_ids)
    if not current_user.has_role(Role.ICB_REVIEWER):
        return set()
    own = set(claim_icb_ids())
    owners = event_owners(db_session(), event_ids)
    return {event_id for event_id, icb_id in owners.items() if icb_id in own}


def event_viewer(user: User | None = None) -> events.Viewer:
    """The user as services.events sees them: the practices whose own data they see and the
    ICBs whose claims they read. A proposed event is theirs to see through one of those."""
    user = user or current_user
    if user.is_admin:
        return events.Viewer(is_admin=True)
    return events.Viewer(
        practice_ids=frozenset(practice_ids_for(user)),
        icb_ids=frozenset(claim_icb_ids(user)),
    )


def event_or_404(event_id: int) -> OutageEvent:
    """An outage event the user may see (services.events.visible): any confirmed one; a
    proposal only for its practice's users, its ICB's reviewers and approvers, and
    administrators. Anyone else gets 404, as if it did not exist."""
    found = events.visible_event(db_session(), event_id, event_viewer())
    if found is None:
        abort(404)
    return found


def may_decide_event(event: OutageEvent) -> bool:
    """Whether the user may confirm or merge the proposal: an ICB reviewer of the proposing
    practice's ICB (the ICB that will receive its claims), or an administrator. An approver
    reads it but does not decide: adding events is a reviewer's task (may_add_events)."""
    if event.status != EventStatus.PROPOSED:
        return False
    if current_user.is_admin:
        return True
    icb_id = events.decider_icb(db_session(), event)
    return icb_id is not None and holds_icb_role(icb_id, Role.ICB_REVIEWER)


def may_propose_events() -> bool:
    """Practice managers and finance propose events for the practice they work as."""
    practice = current_practice()
    return practice is not None and may_act_for_practice(practice.id)


def deciding_icb_ids() -> frozenset[int]:
    """The ICBs whose practices' proposed events the user confirms or merges: every ICB for
    an administrator, their own for an ICB reviewer, none for anyone else."""
    if current_user.is_admin:
        return frozenset(icb_ids_for(current_user))
    return frozenset(
        m.icb_id
        for m in current_user.memberships
        if m.icb_id is not None and Role(m.role) == Role.ICB_REVIEWER
    )
