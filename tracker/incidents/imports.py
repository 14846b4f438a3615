"""Import a spreadsheet of costs into an incident: templates, upload and preview, confirm.

Thin views over services.imports. The upload POST reads and checks the file and shows the
preview without writing to the database; the file waits under the instance folder, named
by a random token bound to the user and the incident, until the confirm POST reads and
checks it again and saves it (services.imports explains why).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.access import get_for_practice_or_404, roles_required
from tracker.columns import columns
from tracker.cost_kinds import KINDS, CostKind
from tracker.documents.import_template import template_csv, template_xlsx
from tracker.extensions import db_session
from tracker.incidents.forms import ConfirmImportForm, ImportForm
from tracker.models import PRACTICE_ROLES, Incident
from tracker.presentation import size_text
from tracker.services import imports
from tracker.services.dates import today_in_london
from tracker.services.errors import Conflict, DomainError, Invalid
from tracker.view_helpers import send_download, show_domain_error

bp = Blueprint("imports", __name__)

practice_staff = roles_required(*PRACTICE_ROLES)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPIRED = "The uploaded file has expired or was already imported: upload it again to check it."


def _incident_or_404(incident_id: int) -> Incident:
    return get_for_practice_or_404(Incident, incident_id)


def _file_name(kind: str) -> str:
    return f"{CostKind(kind).label.lower().replace(' ', '-')}-template"


@bp.route("/incidents/<int:incident_id>/import/template/<kind>.<fmt>")
@practice_staff
def template(incident_id: int, kind: str, fmt: str) -> Response:
    _incident_or_404(incident_id)
    if kind not in {k.value for k in KINDS} or fmt not in ("xlsx", "csv"):
        abort(404)
    name = f"{_file_name(kind)}.{fmt}"
    if fmt == "xlsx":
        return send_download(
            template_xlsx(kind, CostKind(kind).label), mimetype=XLSX, filename=name
        )
    return send_download(template_csv(kind), mimetype="text/csv", filename=name)


def _page(incident: Incident, form: ImportForm, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "incidents/import.html",
            incident=incident,
            form=form,
            kinds=list(KINDS),
            columns={kind.value: columns(kind) for kind in KINDS},
            max_upload=size_text(current_app.config["MAX_UPLOAD_BYTES"]),
        ),
        status,
    )


def _read_upload(form: ImportForm) -> tuple[str, bytes]:
    upload = form.upload.data
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    data = upload.stream.read(limit + 1)
    problem = imports.size_problem(len(data), limit)
    if problem:
        raise Invalid(problem, "upload")
    return imports.clean_filename(upload.filename), data


@bp.route("/incidents/<int:incident_id>/import", methods=["GET", "POST"])
@practice_staff
def upload(incident_id: int) -> str | tuple[str, int] | Response:
    """The import page; posting a file shows its preview (and saves nothing)."""
    incident = _incident_or_404(incident_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(incident, form, 422 if form.is_submitted() else 200)
    try:
        filename, data = _read_upload(form)
        result = imports.preview(
            db_session(), incident, str(form.kind.data), filename, data, today_in_london()
        )
    except DomainError as error:
        show_domain_error(form, error)
        return _page(incident, form, 422)
    finally:
        db_session().rollback()  # a preview only reads
    token = ""
    if result.importable:
        token = imports.stash(
            current_app.config["IMPORT_FOLDER"],
            user_id=current_user.id,
            incident_id=incident.id,
            kind=result.kind,
            filename=filename,
            data=data,
        )
    confirm = ConfirmImportForm(formdata=None, token=token)
    return _preview_page(incident, result, confirm)


def _preview_page(incident: Incident, result: imports.Preview, confirm: ConfirmImportForm) -> str:
    return render_template(
        "incidents/import_preview.html",
        incident=incident,
        result=result,
        confirm=confirm,
        kind=CostKind(result.kind),
        earlier=imports.earlier_text(result.earlier),
        upload_form=ImportForm(formdata=None, kind=result.kind),
    )


def _checked_again(incident: Incident, stashed: imports.Stashed, priced: bool) -> imports.Preview:
    """The waiting file read and checked again, as it is now (rates, earlier imports)."""
    return imports.preview(
        db_session(),
        incident,
        stashed.kind,
        stashed.filename,
        stashed.data,
        today_in_london(),
        priced=priced,
    )


@bp.route("/incidents/<int:incident_id>/import/confirm", methods=["POST"])
@practice_staff
def confirm(incident_id: int) -> str | Response:
    """Save a previewed file: it is read and checked again, then saved in one transaction."""
    incident = _incident_or_404(incident_id)
    form = ConfirmImportForm()
    folder = current_app.config["IMPORT_FOLDER"]
    stashed = (
        imports.unstash(
            folder, form.token.data or "", user_id=current_user.id, incident_id=incident.id
        )
        if form.validate_on_submit()
        else None
    )
    if stashed is None:
        flash(EXPIRED, "error")
        return redirect(url_for("imports.upload", incident_id=incident.id))
    try:
        result = _checked_again(incident, stashed, priced=False)  # saving prices every line
        lines = imports.save(
            db_session(),
            incident,
            current_user.id,
            result,
            today_in_london(),
            only_valid=bool(form.only_valid.data),
            again=bool(form.again.data),
        )
        db_session().commit()
    except DomainError as error:
        db_session().rollback()
        if isinstance(error, Conflict | Invalid) and error.field in ("again", "upload"):
            # nothing was saved: show the file's preview again, with the reason
            result = _checked_again(incident, stashed, priced=True)
            db_session().rollback()
            form.again.errors = [error.message] if error.field == "again" else []
            if error.field != "again":
                form.form_errors.append(error.message)
            return _preview_page(incident, result, form)
        raise
    imports.discard(folder, stashed.token)
    count = len(lines)
    flash(
        f"{count} cost{'s' if count != 1 else ''} imported from {stashed.filename}.",
        "success",
    )
    return redirect(url_for("incidents.detail", incident_id=incident.id) + "#costs")
