"""Invoices: build and issue, download PDF and Excel, credit notes, payments, the register."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import date

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
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.access import (
    current_practice_or_404,
    invoice_or_404,
    may_act_for_practice,
    practice_ids_for,
    roles_required,
)
from tracker.documents import accounts_csv
from tracker.documents.accounts_csv import ExportDocument
from tracker.documents.data import InvoiceDocument
from tracker.documents.ubl import build_ubl, missing_endpoints, ubl_file_name
from tracker.extensions import db_session
from tracker.invoices.forms import (
    CreditForm,
    DraftDetailsForm,
    LineCreditForm,
    NewInvoiceForm,
    PaymentForm,
    RefundForm,
    RegisterFilterForm,
    SendForm,
    line_credit_form,
)
from tracker.models import (
    PRACTICE_ROLES,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Practice,
    Role,
    SendOutcome,
)
from tracker.presentation import format_money
from tracker.services import (
    accounts_export,
    capacity,
    claim_pack,
    claim_policy,
    cost_lines,
    crediting,
    invoice_documents,
    invoicing,
    mailing,
    payments,
    register,
    review,
)
from tracker.services.dates import today_in_london
from tracker.services.errors import Conflict, DomainError, Invalid
from tracker.services.text import parse_id
from tracker.view_helpers import query_page, send_document, send_download, show_domain_error

bp = Blueprint("invoices", __name__, url_prefix="/invoices")

FINANCE_ROLES = frozenset({Role.FINANCE})
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIME = "text/csv"


def _require(invoice: Invoice, roles: frozenset[Role] = PRACTICE_ROLES) -> None:
    if not may_act_for_practice(invoice.practice_id, roles):
        abort(403)


# --- register ----------------------------------------------------------------------------


def _register_filter(
    form: RegisterFilterForm, roles: frozenset[Role] | None = None
) -> register.RegisterFilter:
    """The register's filter from the form, over the user's practices (with `roles`, only
    those where they hold one of them)."""
    visible = practice_ids_for(current_user, roles)
    practices = (
        db_session()
        .scalars(select(Practice).where(Practice.id.in_(visible)).order_by(Practice.name))
        .all()
    )
    form.practice.choices = [(0, "All your practices")] + [
        (p.id, f"{p.name} ({p.ods_code})") for p in practices
    ]
    form.icb.choices = [(0, "Any ICB")] + [
        (i.id, i.name) for i in register.icbs_of(db_session(), visible)
    ]
    form.validate()
    return register.RegisterFilter(
        practice_ids=visible,
        practice_id=form.practice.data or None if form.practice.data in visible else None,
        status=form.status.data or None,
        icb_id=form.icb.data or None,
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None,
    )


@bp.route("")
@roles_required(*PRACTICE_ROLES)
def index() -> str:
    form = RegisterFilterForm(request.args)
    filters = _register_filter(form)
    today = today_in_london()
    page = query_page()
    size = current_app.config["PAGE_SIZE"]
    result = register.register(db_session(), filters, today, limit=size, offset=(page - 1) * size)
    total_rows = register.count(db_session(), filters, today)
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "invoices/index.html",
        form=form,
        result=result,
        today=today,
        page=page,
        pages=max((total_rows + size - 1) // size, 1),
        query=query,
        may_export=bool(practice_ids_for(current_user, FINANCE_ROLES)),
        state_of=lambda invoice: payments.payment_state(invoice, today),
        outstanding_of=payments.outstanding,
        approved_of=review.approved_for_practice,
    )


def _register_issued(today: date) -> list[Invoice]:
    """The issued invoices and credit notes (no drafts) of the register as filtered in the
    query string, over the practices where the user is finance: what every bulk export of
    the register holds (PRODUCT.md, users and roles)."""
    result = register.register(
        db_session(), _register_filter(RegisterFilterForm(request.args), FINANCE_ROLES), today
    )
    return [invoice for invoice in result.invoices if invoice.status != InvoiceStatus.DRAFT]


@bp.route("/register.xlsx")
@roles_required(*FINANCE_ROLES)
def register_xlsx() -> Response:
    """The filtered register as a workbook: a bulk export, so for finance only."""
    from tracker.documents.xlsx import build_register_xlsx

    today = today_in_london()
    rows = [register.register_row(invoice, today) for invoice in _register_issued(today)]
    return send_download(
        build_register_xlsx(rows),
        mimetype=XLSX_MIME,
        filename=f"invoice-register-{today.isoformat()}.xlsx",
    )


@bp.route("/invoices.zip")
@roles_required(*FINANCE_ROLES)
def register_zip() -> Response:
    """The PDFs of every issued invoice and credit note in the filtered register: a bulk
    export, for finance only, of the practices where the user is finance."""
    today = today_in_london()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice in _register_issued(today):
            archive.writestr(f"{invoice.number}.pdf", _pdf_bytes(invoice, today))
    return send_download(
        buffer.getvalue(),
        mimetype="application/zip",
        filename=f"invoices-{today.isoformat()}.zip",
    )


# --- CSV for the practice's accounts -----------------------------------------------------


def _accounts_csv(layout: str, entries: list[ExportDocument], credit_notes: bool) -> bytes:
    """The documents in an accounts layout (documents.accounts_csv): "xero", "quickbooks",
    or "lines" (invoices and credit notes together)."""
    documents = [entry.document for entry in entries]
    if layout == "xero":
        code = str(current_app.config["ACCOUNTS_SALES_CODE"])
        return accounts_csv.xero_csv(documents, account_code=code, credit_notes=credit_notes)
    if layout == "quickbooks":
        return accounts_csv.quickbooks_csv(documents, credit_notes=credit_notes)
    return accounts_csv.lines_csv(entries)


def _register_csv(layout: str, kind: DocumentKind | None) -> Response:
    """The filtered register's invoices (or credit notes, which each importer takes in an
    import of its own) in an accounts layout; `kind` None: both, for the plain lines."""
    today = today_in_london()
    entries = accounts_export.export_documents(_register_issued(today), today, kind=kind)
    what = {None: "lines", DocumentKind.INVOICE: "invoices"}.get(kind, "credit-notes")
    suffix = "" if layout == "lines" else f"-{layout}"
    return send_download(
        _accounts_csv(layout, entries, kind == DocumentKind.CREDIT_NOTE),
        mimetype=CSV_MIME,
        filename=f"{what}{suffix}-{today.isoformat()}.csv",
    )


@bp.route("/register-xero.csv")
@roles_required(*FINANCE_ROLES)
def register_xero() -> Response:
    return _register_csv("xero", DocumentKind.INVOICE)


@bp.route("/register-xero-credit-notes.csv")
@roles_required(*FINANCE_ROLES)
def register_xero_credit_notes() -> Response:
    return _register_csv("xero", DocumentKind.CREDIT_NOTE)


@bp.route("/register-quickbooks.csv")
@roles_required(*FINANCE_ROLES)
def register_quickbooks() -> Response:
    return _register_csv("quickbooks", DocumentKind.INVOICE)


@bp.route("/register-quickbooks-credit-notes.csv")
@roles_required(*FINANCE_ROLES)
def register_quickbooks_credit_notes() -> Response:
    return _register_csv("quickbooks", DocumentKind.CREDIT_NOTE)


@bp.route("/register-lines.csv")
@roles_required(*FINANCE_ROLES)
def register_lines() -> Response:
    return _register_csv("lines", None)


def _invoice_csv(invoice_id: int, layout: str) -> Response:
    """One issued invoice or credit note in an accounts layout (a credit note in the layout's
    credit-note import), for whoever may download its PDF; a draft is refused with why.
    The ICB's decisions are in it, so they are in its tag."""
    invoice = invoice_or_404(invoice_id, reviewers=True)
    entry = accounts_export.export_document(invoice, today_in_london())
    credit_note = invoice.kind == DocumentKind.CREDIT_NOTE
    return send_document(
        _tag(invoice, f"{layout}.csv", entry),
        lambda: _accounts_csv(layout, [entry], credit_note),
        mimetype=CSV_MIME,
        filename=f"{invoice.number}-{layout}.csv",
    )


@bp.route("/<int:invoice_id>/xero.csv")
def xero_csv(invoice_id: int) -> Response:
    return _invoice_csv(invoice_id, "xero")


@bp.route("/<int:invoice_id>/quickbooks.csv")
def quickbooks_csv(invoice_id: int) -> Response:
    return _invoice_csv(invoice_id, "quickbooks")


@bp.route("/<int:invoice_id>/lines.csv")
def lines_csv(invoice_id: int) -> Response:
    return _invoice_csv(invoice_id, "lines")


# --- building and issuing ----------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*PRACTICE_ROLES)
def new() -> str | Response:
    practice = current_practice_or_404()
    if not may_act_for_practice(practice.id):
        abort(403)
    lines = invoicing.uninvoiced_lines(db_session(), practice.id)
    incidents = invoicing.lines_by_incident(lines)
    form = NewInvoiceForm()
    form.incident_ids.choices = [(incident.id, incident.title) for incident, _ in incidents]
    form.cost_line_ids.choices = [(line.id, line.description) for line in lines]
    if request.method == "GET":  # "Invoice the ICB" on an incident's page: that incident chosen
        asked = parse_id(request.args.get("incident"))
        form.incident_ids.data = [i.id for i, _ in incidents if i.id == asked]
    if form.validate_on_submit():
        chosen = set(form.cost_line_ids.data or [])
        picked_incidents = set(form.incident_ids.data or [])
        chosen |= {line.id for line in lines if line.incident_id in picked_incidents}
        try:
            draft = invoicing.create_draft(
                db_session(), practice=practice, cost_line_ids=chosen, user_id=current_user.id
            )
            db_session().commit()
        except DomainError as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            flash(
                "Draft invoice created. Check it, add the ICB's reference, then issue it.",
                "success",
            )
            return redirect(url_for("invoices.detail", invoice_id=draft.id))
    return render_template("invoices/new.html", form=form, practice=practice, incidents=incidents)


@bp.route("/<int:invoice_id>")
def detail(invoice_id: int) -> Response | tuple[str, int]:
    invoice = invoice_or_404(invoice_id, reviewers=True)
    is_practice_user = may_act_for_practice(invoice.practice_id)
    if not is_practice_user:  # a reviewer reads the claim on its review page
        return redirect(url_for("review.claim", invoice_id=invoice.id))
    return _render_detail(invoice, today_in_london())


def _render_detail(
    invoice: Invoice,
    today: date,
    *,
    details_form: DraftDetailsForm | None = None,
    payment_form: PaymentForm | None = None,
    refund_form: RefundForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    is_draft = invoice.status == InvoiceStatus.DRAFT
    if details_form is None:
        details_form = DraftDetailsForm(obj=invoice, formdata=None)
    evidence = invoicing.draft_evidence(db_session(), invoice) if is_draft else None
    document = invoice_documents.invoice_document(invoice, today, evidence)
    credit_notes = (
        crediting.credit_notes_of(db_session(), invoice)
        if invoice.kind == DocumentKind.INVOICE
        else []
    )
    html = render_template(
        "invoices/detail.html",
        invoice=invoice,
        document=document,
        state=payments.payment_state(invoice, today),
        outstanding=payments.outstanding(invoice),
        warnings=(
            invoicing.issue_warnings(invoice, today)
            + cost_lines.invoice_date_warnings(db_session(), invoice)
            + claim_policy.draft_warnings(db_session(), invoice, today)
            if is_draft
            else []
        ),
        changes=invoicing.draft_changes(db_session(), invoice) if is_draft else [],
        double_counting=capacity.double_counting_warnings(invoice.lines) if is_draft else [],
        details_form=details_form,
        payment_form=payment_form or PaymentForm(formdata=None, paid_on=today),
        refund_form=refund_form or RefundForm(formdata=None, paid_on=today),
        is_finance=may_act_for_practice(invoice.practice_id, FINANCE_ROLES),
        credit_notes=credit_notes,
        balance=payments.balance_of(invoice),
        to_credit=(
            crediting.disallowed_total(db_session(), invoice)
            if invoice.kind == DocumentKind.INVOICE and invoice.status == InvoiceStatus.ISSUED
            else None
        ),
        sends=mailing.sends_of(db_session(), invoice.id) if not is_draft else [],
        missing_endpoints=missing_endpoints(document),
        today=today,
    )
    return html, status


@bp.route("/<int:invoice_id>/details", methods=["POST"])
def update_details(invoice_id: int) -> str | Response | tuple[str, int]:
    invoice = invoice_or_404(invoice_id)
    _require(invoice)
    form = DraftDetailsForm()
    today = today_in_london()
    if not form.validate_on_submit():
        return _render_detail(invoice, today, details_form=form, status=422)
    try:
        invoicing.update_draft(
            db_session(),
            invoice,
            po_reference=form.po_reference.data,
            notes=form.notes.data or "",
            issue_date=form.issue_date.data,
            user_id=current_user.id,
            today=today,
        )
        db_session().commit()
    except Invalid as error:
        db_session().rollback()
        show_domain_error(form, error)
        return _render_detail(invoice, today, details_form=form, status=422)
    else:
        flash("Invoice details saved.", "success")
    return redirect(url_for("invoices.detail", invoice_id=invoice.id))


@bp.route("/<int:invoice_id>/refresh", methods=["POST"])
def refresh(invoice_id: int) -> Response:
    """Bring a draft up to date on request; viewing it never does."""
    invoice = invoice_or_404(invoice_id)
    _require(invoice)
    changes = invoicing.refresh_draft(db_session(), invoice)
    db_session().commit()
    flash(" ".join(["Draft refreshed from its cost lines.", *changes]), "success")
    return redirect(url_for("invoices.detail", invoice_id=invoice_id))


@bp.route("/<int:invoice_id>/issue", methods=["POST"])
def issue(invoice_id: int) -> Response:
    invoice = invoice_or_404(invoice_id)
    _require(invoice)
    try:
        invoicing.issue_invoice(
            db_session(), invoice, user_id=current_user.id, today=today_in_london()
        )
        db_session().commit()
    except Invalid as error:  # the invoice date: fix it in the details above
        db_session().rollback()
        flash(error.message, "error")
    else:
        flash(
            f"Invoice {invoice.number} issued. Send it to the ICB from here, or download the PDF.",
            "success",
        )
    return redirect(url_for("invoices.detail", invoice_id=invoice_id))


@bp.route("/<int:invoice_id>/delete", methods=["POST"])
def delete(invoice_id: int) -> Response:
    invoice = invoice_or_404(invoice_id)
    _require(invoice)
    invoicing.delete_draft(db_session(), invoice, user_id=current_user.id)
    db_session().commit()
    flash("Draft invoice deleted. Its cost lines can go on another invoice.", "success")
    return redirect(url_for("invoices.index"))


def _render_credit(
    invoice: Invoice,
    *,
    form: CreditForm | None = None,
    lines_form: LineCreditForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    balances = crediting.line_balances(db_session(), invoice)
    if lines_form is None:
        lines_form = line_credit_form([b.line.id for b in balances], formdata=None)
    html = render_template(
        "invoices/credit.html",
        invoice=invoice,
        form=form or CreditForm(formdata=None),
        lines_form=lines_form,
        balances=balances,
        decisions={b.line.id: review.decision_for_practice(invoice, b.line) for b in balances},
        creditable=crediting.creditable(invoice),
    )
    return html, status


def _issue_credit(form: FlaskForm, issue: Callable[[], Invoice]) -> Invoice | None:
    """Issue a credit note and commit; on a refusal roll back, show it on the form, None."""
    try:
        note = issue()
        db_session().commit()
    except Invalid as error:
        db_session().rollback()
        show_domain_error(form, error)
        return None
    return note


def _credited(invoice: Invoice, note: Invoice) -> Response:
    if invoice.status == InvoiceStatus.CANCELLED:
        flash(
            f"Credit note {note.number} issued. Invoice {invoice.number} is cancelled and "
            "its cost lines can go on a new invoice.",
            "success",
        )
        return redirect(url_for("invoices.detail", invoice_id=note.id))
    flash(
        f"Credit note {note.number} issued: {format_money(-note.total)} credited. "
        f"{format_money(payments.outstanding(invoice))} is outstanding on invoice "
        f"{invoice.number}.",
        "success",
    )
    return redirect(url_for("invoices.detail", invoice_id=invoice.id))


@bp.route("/<int:invoice_id>/credit", methods=["GET", "POST"])
def credit(invoice_id: int) -> Response | tuple[str, int]:
    """The credit page: part of the invoice (chosen lines or amounts) or all of it. A POST
    here cancels the invoice in full."""
    invoice = invoice_or_404(invoice_id)
    _require(invoice, FINANCE_ROLES)
    form = CreditForm()
    if form.validate_on_submit():
        note = _issue_credit(
            form,
            lambda: crediting.credit_invoice(
                db_session(),
                invoice,
                user_id=current_user.id,
                today=today_in_london(),
                reason=form.reason.data or "",
            ),
        )
        if note is not None:
            return _credited(invoice, note)
    return _render_credit(invoice, form=form, status=422 if request.method == "POST" else 200)


@bp.route("/<int:invoice_id>/credit/lines", methods=["POST"])
def credit_lines(invoice_id: int) -> Response | tuple[str, int]:
    """A credit note for the amounts typed against chosen lines."""
    invoice = invoice_or_404(invoice_id)
    _require(invoice, FINANCE_ROLES)
    form = line_credit_form([line.id for line in invoice.lines])
    if form.validate_on_submit():
        note = _issue_credit(
            form,
            lambda: crediting.credit_lines(
                db_session(),
                invoice,
                form.amounts,
                reason=form.reason.data or "",
                user_id=current_user.id,
                today=today_in_london(),
            ),
        )
        if note is not None:
            return _credited(invoice, note)
    db_session().refresh(invoice)
    return _render_credit(invoice, lines_form=form, status=422)


@bp.route("/<int:invoice_id>/credit/disallowed", methods=["POST"])
def credit_disallowed(invoice_id: int) -> Response:
    """One credit note for everything the ICB did not approve."""
    invoice = invoice_or_404(invoice_id)
    _require(invoice, FINANCE_ROLES)
    try:
        note = crediting.credit_disallowed(
            db_session(), invoice, user_id=current_user.id, today=today_in_london()
        )
        db_session().commit()
    except Conflict as error:
        db_session().rollback()
        flash(error.message, "error")
        return redirect(url_for("invoices.detail", invoice_id=invoice.id))
    return _credited(invoice, note)


@bp.route("/<int:invoice_id>/payments", methods=["POST"])
def payment(invoice_id: int) -> Response | tuple[str, int]:
    return _record(invoice_id, PaymentForm(), sign=1)


@bp.route("/<int:invoice_id>/refunds", methods=["POST"])
def refund(invoice_id: int) -> Response | tuple[str, int]:
    return _record(invoice_id, RefundForm(), sign=-1)


def _record(invoice_id: int, form: PaymentForm, sign: int) -> Response | tuple[str, int]:
    invoice = invoice_or_404(invoice_id)
    _require(invoice, FINANCE_ROLES)
    today = today_in_london()
    if form.validate_on_submit():
        # DataRequired has made sure a date was given
        assert form.paid_on.data is not None
        try:
            payments.record_payment(
                db_session(),
                invoice,
                amount=sign * form.amount_value,
                paid_on=form.paid_on.data,
                reference=form.reference.data or "",
                user_id=current_user.id,
                today=today,
            )
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            flash("Refund recorded." if sign < 0 else "Payment recorded.", "success")
            return redirect(url_for("invoices.detail", invoice_id=invoice.id))
    db_session().refresh(invoice)
    if isinstance(form, RefundForm):  # a RefundForm is a PaymentForm too, so asked first
        return _render_detail(invoice, today, status=422, refund_form=form)
    return _render_detail(invoice, today, status=422, payment_form=form)


# --- downloads ---------------------------------------------------------------------------


def _document(invoice: Invoice, today: date) -> InvoiceDocument:
    evidence = None
    if invoice.status == InvoiceStatus.DRAFT:
        evidence = invoicing.draft_evidence(db_session(), invoice)
    return invoice_documents.invoice_document(invoice, today, evidence)


def _pdf_bytes(invoice: Invoice, today: date) -> bytes:
    from tracker.documents.pdf import build_invoice_pdf

    return build_invoice_pdf(_document(invoice, today))


def _tag(invoice: Invoice, kind: str, *inputs: object) -> str | None:
    """The entity tag of a frozen invoice's document built from `inputs`; None for a draft."""
    if not invoice_documents.is_frozen(invoice):
        return None
    return invoice_documents.document_tag(kind, *inputs)


def _file_stem(invoice: Invoice) -> str:
    return invoice.number or f"draft-invoice-{invoice.id}"


@bp.route("/<int:invoice_id>.pdf")
def pdf(invoice_id: int) -> Response:
    from tracker.documents.pdf import build_invoice_pdf

    invoice = invoice_or_404(invoice_id, reviewers=True)
    document = _document(invoice, today_in_london())
    return send_document(
        _tag(invoice, "pdf", document),
        lambda: build_invoice_pdf(document),
        mimetype="application/pdf",
        filename=f"{_file_stem(invoice)}.pdf",
    )


@bp.route("/<int:invoice_id>.xlsx")
def xlsx(invoice_id: int) -> Response:
    from tracker.documents.xlsx import build_invoice_xlsx

    invoice = invoice_or_404(invoice_id, reviewers=True)
    document = _document(invoice, today_in_london())
    return send_document(
        _tag(invoice, "xlsx", document),
        lambda: build_invoice_xlsx(document),
        mimetype=XLSX_MIME,
        filename=f"{_file_stem(invoice)}.xlsx",
    )


@bp.route("/<int:invoice_id>.xml")
def ubl_xml(invoice_id: int) -> Response:
    """The e-invoice (Peppol BIS Billing 3.0 UBL) of an issued invoice or credit note, for
    whoever may download its PDF. A draft has no number yet, so no e-invoice: its page
    says so. The app does not validate the XML here (the tests do, against the official
    rules): the builder only writes what those rules accept."""
    invoice = invoice_or_404(invoice_id, reviewers=True)
    if invoice.status == InvoiceStatus.DRAFT:
        flash("A draft has no e-invoice: issue it first, then download its e-invoice.", "error")
        return redirect(url_for("invoices.detail", invoice_id=invoice.id))
    document = _document(invoice, today_in_london())
    return send_document(
        _tag(invoice, "xml", document),
        lambda: build_ubl(document),
        mimetype="application/xml",
        filename=ubl_file_name(document),
    )


@bp.route("/<int:invoice_id>/claim-pack.pdf")
def pack(invoice_id: int) -> Response:
    """The claim pack (invoice, contents, covering statement and every backing document in
    one PDF) for whoever may download the invoice PDF, the ICB's reviewers included. It only
    reads; a pack that cannot be made says why on the invoice's page."""
    invoice = invoice_or_404(invoice_id, reviewers=True)
    max_bytes = current_app.config["CLAIM_PACK_MAX_BYTES"]
    try:
        source = claim_pack.source(db_session(), invoice, today=today_in_london())
        return send_document(
            source.tag(max_bytes),
            lambda: _pack_bytes(source),
            mimetype="application/pdf",
            filename=claim_pack.file_name(invoice),
        )
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("invoices.detail", invoice_id=invoice.id))


def _pack_bytes(source: claim_pack.PackSource) -> bytes:
    return claim_pack.build(
        source,
        folder=current_app.config["UPLOAD_FOLDER"],
        max_bytes=current_app.config["CLAIM_PACK_MAX_BYTES"],
    )


def attachment_for(invoice: Invoice) -> tuple[str, bytes]:
    """What is attached when the invoice is emailed to the ICB, and downloaded as its claim
    pack: (file name, PDF bytes). SBS takes an emailed invoice only with its backing
    documents inside the same PDF, so this is the claim pack, not the bare invoice. Raises
    the pack's DomainError (too large, a document missing or unreadable) with its message."""
    source = claim_pack.source(db_session(), invoice, today=today_in_london())
    return claim_pack.file_name(invoice), _pack_bytes(source)


# --- sending to the ICB ------------------------------------------------------------------


def _render_send(
    invoice: Invoice, form: SendForm, status: int = 200, error: str | None = None
) -> tuple[str, int]:
    """The confirmation page: who the email goes to and copies, the subject and the file,
    or what stops it (no mail settings, no ICB address), with the PDF to download instead."""
    settings = mailing.MailSettings.from_config(current_app.config)
    problem = error
    to = None
    attachment: tuple[str, bytes] | None = None
    try:
        mailing.check_sendable(invoice)
        to = mailing.recipients(invoice, current_user)
    except DomainError as refusal:
        problem = problem or refusal.message
    if settings is not None and to is not None:
        try:
            attachment = attachment_for(invoice)
        except DomainError as refusal:
            problem = problem or refusal.message
    if problem:
        form.form_errors.append(problem)
    html = render_template(
        "invoices/send.html",
        invoice=invoice,
        form=form,
        settings=settings,
        missing=mailing.missing_settings(current_app.config),
        to=to,
        subject=mailing.subject_of(invoice),
        attachment=attachment,
        problem=problem,
        sends=mailing.sends_of(db_session(), invoice.id),
    )
    return html, status


@bp.route("/<int:invoice_id>/send", methods=["GET", "POST"])
def send(invoice_id: int) -> Response | tuple[str, int]:
    """Email an issued invoice to its ICB, the LMC and the practice in copy, after the user
    has seen the recipients. A refusal by the mail server is shown with its words; the
    attempt is logged as failed and nothing else changes, so sending again is safe."""
    invoice = invoice_or_404(invoice_id)
    _require(invoice)
    form = SendForm()
    if request.method == "GET" or not form.validate_on_submit():
        return _render_send(invoice, form, 200 if request.method == "GET" else 422)
    settings = mailing.MailSettings.from_config(current_app.config)
    if settings is None:  # the page says which settings to set; nothing is sent
        return _render_send(invoice, form, 409)
    try:
        filename, content = attachment_for(invoice)
        attempt = mailing.send_invoice(
            db_session(),
            invoice,
            sender=current_user,
            attachment=mailing.Attachment(filename, content),
            settings=settings,
        )
        db_session().commit()
    except DomainError as refusal:
        db_session().rollback()
        return _render_send(invoice, form, refusal.http_status, refusal.message)
    if attempt.outcome == SendOutcome.FAILED:
        # as services.errors.Unavailable: the server could not do it now; the attempt is logged
        return _render_send(invoice, form, 503, f"Not sent. {attempt.error}")
    copy = f", with a copy to {attempt.cc_addresses}" if attempt.cc_addresses else ""
    name = mailing.document_name(invoice)
    flash(f"{name} {invoice.number} sent to {attempt.to_address}{copy}.", "success")
    return redirect(url_for("invoices.detail", invoice_id=invoice.id))
