"""Remittances and statements of account: routes of the invoices blueprint, for finance.

A remittance is recorded for one practice and one ICB (the payee's account and the payer),
allocated across that practice's open invoices to that ICB; the list and each remittance
are read by anyone at the practice, as its payments are on the invoice pages. A statement
of account is made for one practice and one ICB as at a date, as a page, PDF and Excel, for
finance (who chase what is owed). Which practice and ICB come from the query string
(`practice`, `icb`), among the practices where the user is finance; the defaults are the
practice being worked as and its ICB.
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.access import current_practice, practice_condition, practice_ids_for, roles_required
from tracker.documents.statement_data import AGE_BANDS, StatementDocument
from tracker.extensions import db, db_session
from tracker.invoices.forms import (
    AccountForm,
    RemittanceForm,
    StatementForm,
    remittance_form,
)
from tracker.invoices.views import FINANCE_ROLES, XLSX_MIME, bp
from tracker.models import PRACTICE_ROLES, Icb, Invoice, Practice, Remittance
from tracker.presentation import format_money
from tracker.services import payments, register, remittances, review, statements
from tracker.services.dates import today_in_london
from tracker.services.errors import DomainError
from tracker.services.money import ZERO
from tracker.services.text import parse_id
from tracker.view_helpers import query_page, send_download, show_domain_error, show_domain_errors

# --- which account: one practice, one ICB -------------------------------------------------


def _account(form: AccountForm) -> tuple[Practice, Icb]:
    """The practice (one where the user is finance) and the ICB chosen in `form`, with the
    form's choices filled in; the defaults are the practice worked as and its ICB."""
    session = db_session()
    ids = practice_ids_for(current_user, FINANCE_ROLES)
    practices = list(
        session.scalars(select(Practice).where(Practice.id.in_(ids)).order_by(Practice.name))
    )
    if not practices:
        abort(403)
    form.validate()
    working_as = current_practice()
    chosen = next((p for p in practices if p.id == form.practice.data), None) or next(
        (p for p in practices if working_as and p.id == working_as.id), practices[0]
    )
    icbs = register.icbs_of(session, [chosen.id])
    icb = next((i for i in icbs if i.id == form.icb.data), None) or next(
        (i for i in icbs if i.id == chosen.icb_id), icbs[0]
    )
    form.practice.choices = [(p.id, f"{p.name} ({p.ods_code})") for p in practices]
    form.icb.choices = [(i.id, i.name) for i in icbs]
    form.practice.data, form.icb.data = chosen.id, icb.id
    return chosen, icb


# --- remittances ----------------------------------------------------------------------------


@bp.route("/remittances")
@roles_required(*PRACTICE_ROLES)
def remittances_list() -> str:
    ids = practice_ids_for(current_user)
    page = query_page()
    size = current_app.config["PAGE_SIZE"]
    found = remittances.remittances_of(db_session(), ids, limit=size, offset=(page - 1) * size)
    total = remittances.count_of(db_session(), ids)
    return render_template(
        "invoices/remittances.html",
        remittances=found,
        page=page,
        pages=max((total + size - 1) // size, 1),
        is_finance=bool(practice_ids_for(current_user, FINANCE_ROLES)),
    )


@bp.route("/remittances/<int:remittance_id>")
@roles_required(*PRACTICE_ROLES)
def remittance_detail(remittance_id: int) -> str:
    remittance: Remittance = db.first_or_404(
        select(Remittance).where(
            Remittance.id == remittance_id, practice_condition(Remittance.practice_id)
        )
    )
    today = today_in_london()
    return render_template(
        "invoices/remittance.html",
        remittance=remittance,
        state_of=lambda invoice: payments.payment_state(invoice, today),
        outstanding_of=payments.outstanding,
        is_finance=remittance.practice_id in practice_ids_for(current_user, FINANCE_ROLES),
    )


def _posted_ids() -> list[int]:
    """The invoices a posted remittance names (allocate_<id>), so that one paid or credited
    meanwhile is still shown, with why its allocation was refused."""
    prefix = "allocate_"
    named = (parse_id(key[len(prefix) :]) for key in request.form if key.startswith(prefix))
    return [invoice_id for invoice_id in named if invoice_id is not None]


def _prefilled(form: RemittanceForm, invoices: list[Invoice]) -> None:
    """The "Allocate in full" link (`?fill=all`): every invoice's outstanding allocated, and
    their sum as the amount received; the reference and date are still to type."""
    for invoice in invoices:
        form.allocation(invoice.id).data = str(payments.outstanding(invoice))
    form.amount.data = str(sum((payments.outstanding(i) for i in invoices), start=ZERO))


@bp.route("/remittances/new", methods=["GET", "POST"])
@roles_required(*FINANCE_ROLES)
def remittance_new() -> str | Response | tuple[str, int]:
    account = AccountForm(request.args)
    practice, icb = _account(account)
    today = today_in_london()
    also = _posted_ids() if request.method == "POST" else []
    invoices = remittances.open_invoices(db_session(), practice.id, icb.id, also=also)
    form = remittance_form({invoice.id: invoice.number or "" for invoice in invoices})
    if request.method == "GET":
        form.received_on.data = today
        if request.args.get("fill") == "all":
            _prefilled(form, invoices)
    elif _remittance_ok(form, practice, icb, invoices, today):
        saved = _record(form, practice, icb, today)
        if saved is not None:
            return redirect(url_for("invoices.remittance_detail", remittance_id=saved.id))
    status = 422 if request.method == "POST" else 200
    html = render_template(
        "invoices/remittance_new.html",
        account=account,
        form=form,
        practice=practice,
        icb=icb,
        invoices=invoices,
        outstanding_of=payments.outstanding,
        approved_of=review.approved_for_practice,
        open_total=sum((payments.outstanding(i) for i in invoices), start=ZERO),
    )
    return html, status


def _entry(form: RemittanceForm, practice: Practice, icb: Icb) -> remittances.RemittanceEntry:
    return remittances.RemittanceEntry(
        practice_id=practice.id,
        icb_id=icb.id,
        received_on=form.received_on.data or today_in_london(),
        reference=form.reference.data or "",
        amount=form.amount_value,
        allocations=form.allocations,
    )


def _remittance_ok(
    form: RemittanceForm, practice: Practice, icb: Icb, invoices: list[Invoice], today: date
) -> bool:
    """Whether the posted remittance can be recorded: the form's checks and the service's
    rules together, so every problem is shown at once, each beside its field."""
    if not form.validate_on_submit():
        return False
    problems = remittances.remittance_problems(
        db_session(), _entry(form, practice, icb), invoices, today
    )
    show_domain_errors(form, problems)
    return not problems


def _record(form: RemittanceForm, practice: Practice, icb: Icb, today: date) -> Remittance | None:
    """Record it and commit, or roll back and show why (someone paid or credited one of the
    invoices a moment ago, say): nothing of it is kept."""
    entry = _entry(form, practice, icb)
    try:
        saved = remittances.record_remittance(
            db_session(), entry, user_id=current_user.id, today=today
        )
        db_session().commit()
    except DomainError as error:
        db_session().rollback()
        show_domain_error(form, error)
        return None
    count = len(entry.paid_ids)
    flash(
        f"Remittance {saved.reference} of {format_money(saved.amount)} recorded against "
        f"{count} invoice{'' if count == 1 else 's'}.",
        "success",
    )
    return saved


# --- statement of account -------------------------------------------------------------------


def _statement() -> tuple[StatementForm, StatementDocument]:
    form = StatementForm(request.args)
    practice, icb = _account(form)
    today = today_in_london()
    as_at = form.as_at.data if form.as_at.data and not form.as_at.errors else today
    form.as_at.data = as_at
    return form, statements.statement(db_session(), practice, icb, as_at)


def _statement_file(doc: StatementDocument, extension: str) -> str:
    return f"statement-{doc.supplier.ods_code}-{doc.customer.ods_code}-{doc.as_at}.{extension}"


@bp.route("/statement")
@roles_required(*FINANCE_ROLES)
def statement() -> str:
    form, doc = _statement()
    return render_template(
        "invoices/statement.html",
        form=form,
        doc=doc,
        bands=[label for label, _ in AGE_BANDS],
        query={"practice": form.practice.data, "icb": form.icb.data, "as_at": doc.as_at},
    )


@bp.route("/statement.pdf")
@roles_required(*FINANCE_ROLES)
def statement_pdf() -> Response:
    from tracker.documents.statement_pdf import build_statement_pdf

    _, doc = _statement()
    return send_download(
        build_statement_pdf(doc), mimetype="application/pdf", filename=_statement_file(doc, "pdf")
    )


@bp.route("/statement.xlsx")
@roles_required(*FINANCE_ROLES)
def statement_xlsx() -> Response:
    from tracker.documents.xlsx import build_statement_xlsx

    _, doc = _statement()
    return send_download(
        build_statement_xlsx(doc), mimetype=XLSX_MIME, filename=_statement_file(doc, "xlsx")
    )
