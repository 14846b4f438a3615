"""Small helpers shared by the thin views of every area."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from flask import abort, current_app, request, send_file
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field

from tracker.models import Evidence
from tracker.services import evidence
from tracker.services.errors import DomainError
from tracker.services.text import parse_id

T = TypeVar("T")


def query_page() -> int:
    """The page of a list asked for in `?page=`: a whole number (services.text.parse_id);
    anything else, such as a number too large for the database, is ignored: page 1."""
    return parse_id(request.args.get("page")) or 1


def add_field_error(field: Field, message: str) -> None:
    """Show `message` next to `field`, after any it already has (its errors are a read-only
    sequence to the type checker, so a new list is set rather than appended to)."""
    field.errors = [*field.errors, message]


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal next to the field it concerns, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        add_field_error(field, error.message)
    else:
        form.form_errors.append(error.message)


def show_domain_errors(form: FlaskForm, errors: Iterable[DomainError]) -> None:
    """Show every problem a service found; a field the form could not even parse keeps
    just its parsing error ("Enter hours as a number"), not a second one about the value."""
    for error in errors:
        field = getattr(form, error.field, None) if error.field else None
        if field is None or not field.errors:
            show_domain_error(form, error)


def send_download(source: bytes | Path, *, mimetype: str, filename: str) -> Response:
    """Send a file (invoice, export, evidence) the caller has already checked the user may
    see: always an attachment under `filename` (OWASP ASVS 4.0.3 V14.4.2), of the declared
    type only (V14.4.4 nosniff), never stored by the browser or a proxy (V8.2.1: invoices,
    registers, reports and receipts carry bank details and claims, so "no-store", not
    "no-cache", which still keeps a copy on disk)."""
    response = send_file(
        io.BytesIO(source) if isinstance(source, bytes) else source,
        mimetype=mimetype,
        as_attachment=True,
        download_name=filename,
        conditional=False,
        etag=False,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


#: An issued document may be kept by the user's own browser (never a shared cache: "private")
#: and must be checked with the server before every use ("no-cache", RFC 9111 section
#: 5.2.2.4), so a user who loses access to the practice or ICB gets "Page not found" rather
#: than a kept copy; the check costs a 304 with no body, not a rebuilt file.
FROZEN_CACHE_CONTROL = "private, no-cache"


def send_document(
    tag: str | None, build: Callable[[], bytes], *, mimetype: str, filename: str
) -> Response:
    """Send a document the caller has already checked the user may see. With a `tag` (an
    issued invoice's document, which never changes: services.invoice_documents.document_tag)
    it carries a strong ETag, and a request whose If-None-Match holds that tag is answered
    304 Not Modified without building the file (RFC 9110 section 13.1.2). Without one (a
    draft, which changes with its lines) it is built and never stored, as send_download."""
    if tag is None:
        return send_download(build(), mimetype=mimetype, filename=filename)
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        response = send_download(build(), mimetype=mimetype, filename=filename)
    response.set_etag(tag)
    response.headers["Cache-Control"] = FROZEN_CACHE_CONTROL
    return response


def say_file_not_kept(form: FlaskForm, field: Field) -> None:
    """When a form is shown again with errors, a file the user had chosen was not saved, and
    the browser cannot keep it in the file input: say so beside that input, with what to do,
    instead of dropping it without a word. A file refused for itself has its own message."""
    filename = getattr(field.data, "filename", "")
    if not filename or field.errors:
        return
    if form.form_errors or any(other.errors for other in form if other is not field):
        add_field_error(field, evidence.not_kept(filename))


def send_evidence(item: Evidence) -> Response:
    """Serve an uploaded file the caller has already checked the user may see: typed and
    named by what the file was checked to be at upload, never by the uploader's name."""
    try:
        path = evidence.path_of(current_app.config["UPLOAD_FOLDER"], item.stored_name)
        mimetype, extension = evidence.checked_type(item.stored_name)
    except ValueError:
        abort(404)
    if not path.exists():
        abort(404)
    return send_download(
        path,
        mimetype=mimetype,
        filename=evidence.download_name(item.original_filename, extension),
    )
