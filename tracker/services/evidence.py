"""Evidence files (receipts, locum invoices, screenshots) attached to cost lines.

A file is accepted by what it contains, never by its name: PDF, PNG or JPEG only, checked
from its first bytes, and at most `max_bytes`. It is stored under the upload folder with a
random name; the name the user gave is kept only to offer it back on download.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from tracker.models import CostLine, Evidence
from tracker.presentation import size_text
from tracker.services import audit, cost_lines
from tracker.services.errors import Invalid, Unavailable

CHUNK = 64 * 1024
#: (magic bytes, MIME type, extension)
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
FIELD = "evidence"
log = logging.getLogger(__name__)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(MIME type, extension) of a PDF, PNG or JPEG from its first bytes, else None."""
    for magic, mime, extension in SIGNATURES:
        if head.startswith(magic):
            return mime, extension
    return None


def clean_filename(name: str | None) -> str:
    """The user's file name without any folder part or control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().strip(".")
    return (base or "evidence")[:200]


@dataclass
class PreparedFile:
    """A checked upload already written under its random name, not yet in the database."""

    path: Path
    original_filename: str
    content_type: str
    size_bytes: int
    sha256: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def prepare(
    folder: str | os.PathLike[str], filename: str | None, stream: BinaryIO, max_bytes: int
) -> PreparedFile:
    """Check and store an upload; raise Invalid (field "evidence") and keep nothing when
    it is empty, too large or not a PDF, PNG or JPEG."""
    head = stream.read(16)
    if not head:
        raise Invalid("The selected file is empty", FIELD)
    kind = sniff(head)
    if kind is None:
        raise Invalid("The selected file must be a PDF, PNG or JPEG", FIELD)
    mime, extension = kind
    directory = Path(folder)
    path = directory / f"{secrets.token_hex(16)}{extension}"
    digest = hashlib.sha256()
    size = 0
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise Invalid(
                        f"The selected file must be smaller than {size_text(max_bytes)}", FIELD
                    )
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(CHUNK)
    except OSError as error:
        _discard_quietly(path)
        raise not_stored(filename, error) from error
    except BaseException:
        _discard_quietly(path)
        raise
    return PreparedFile(path, clean_filename(filename), mime, size, digest.hexdigest())


def not_stored(filename: str | None, error: OSError) -> Unavailable:
    """The refusal when the upload folder cannot be written (permissions, a full disk): the
    user is told what happened and what to do; the administrator gets the cause in the log
    (OWASP ASVS 4.0.3 V7.4.1: a generic message to the user, the detail logged)."""
    log.error("Evidence upload could not be stored: %s", error)
    return Unavailable(
        f"{clean_filename(filename)} could not be stored on the server, so nothing was saved. "
        "Try again later, or save without the file and add it later; the problem has been "
        "logged for your administrator",
        FIELD,
    )


def not_kept(filename: str | None) -> str:
    """What to say beside the file field when a form with a chosen file is shown again with
    errors: browsers cannot keep a chosen file, so the user must choose it again."""
    return (
        f"Your file {clean_filename(filename)} was not saved because the form has errors: "
        "correct them, then choose the file again"
    )


def _discard_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.exception("Could not remove a partly written upload %s", path)


def attach(
    session: Session, prepared: PreparedFile, line: CostLine, user_id: int | None
) -> Evidence:
    """Record a prepared file against a cost line (the caller commits, or discards the file).
    The line is held first (cost_lines.hold_editable): a receipt added as the line's invoice
    is issued is either on the invoice's frozen evidence list or refused."""
    cost_lines.hold_editable(
        session, line, "This cost is on an issued invoice: evidence can no longer be added", FIELD
    )
    evidence = Evidence(
        practice_id=line.incident.practice_id,
        cost_line_id=line.id,
        original_filename=prepared.original_filename,
        stored_name=prepared.path.name,
        content_type=prepared.content_type,
        size_bytes=prepared.size_bytes,
        sha256=prepared.sha256,
        uploaded_by_id=user_id,
    )
    session.add(evidence)
    session.flush()
    audit.record(
        session,
        user_id=user_id,
        entity=evidence,
        action="create",
        practice_id=line.incident.practice_id,
        incident_id=line.incident_id,
        summary=f"Evidence {prepared.original_filename} attached to: {line.description}",
        changes={"original_filename": [None, prepared.original_filename]},
    )
    return evidence


def store(
    session: Session,
    folder: str | os.PathLike[str],
    line: CostLine,
    filename: str | None,
    stream: BinaryIO,
    max_bytes: int,
    user_id: int | None,
) -> Evidence:
    """Check, write and record an upload in one step (the caller commits)."""
    prepared = prepare(folder, filename, stream, max_bytes)
    try:
        return attach(session, prepared, line, user_id)
    except BaseException:
        prepared.discard()
        raise


def remove(session: Session, evidence: Evidence, user_id: int | None) -> str:
    """Delete an evidence row of an uninvoiced line; returns the stored name to unlink
    after the commit."""
    line = evidence.cost_line
    if line is not None:
        cost_lines.hold_editable(
            session, line, "This cost is on an issued invoice: its evidence is kept"
        )
    audit.record(
        session,
        user_id=user_id,
        entity=evidence,
        action="delete",
        practice_id=evidence.practice_id,
        incident_id=line.incident_id if line else None,
        summary=f"Evidence {evidence.original_filename} removed",
        changes={"original_filename": [evidence.original_filename, None]},
    )
    stored = evidence.stored_name
    session.delete(evidence)
    session.flush()
    return stored


def path_of(folder: str | os.PathLike[str], stored_name: str) -> Path:
    """Where a stored file lives; the name is ours (random hex), never the user's."""
    if not re.fullmatch(r"[0-9a-f]{32}\.(pdf|png|jpg)", stored_name):
        raise ValueError("not a stored evidence name")
    return Path(folder) / stored_name


def unlink_all(folder: str | os.PathLike[str], stored_names: list[str]) -> None:
    """Remove files whose rows are gone (after the commit): a file that cannot be removed is
    logged for the administrator, never an error for the user, whose change is saved."""
    for name in stored_names:
        try:
            path_of(folder, name).unlink(missing_ok=True)
        except ValueError:
            continue
        except OSError:
            log.exception("Could not remove the stored evidence file %s", name)


#: Spellings of the extension users give each checked type; a name already ending in one is
#: offered back unchanged ("scan.JPEG" stays "scan.JPEG").
EXTENSION_ALIASES = {
    ".pdf": frozenset({".pdf"}),
    ".png": frozenset({".png"}),
    ".jpg": frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
}


def checked_type(stored_name: str) -> tuple[str, str]:
    """(MIME type, extension) a stored file was checked to be when it was uploaded, read from
    our own stored name, whose extension `prepare` took from the sniffed content and never
    from the user; ValueError for a name we did not make."""
    match = re.fullmatch(r"[0-9a-f]{32}(\.(?:pdf|png|jpg))", stored_name)
    if match is None:
        raise ValueError("not a stored evidence name")
    extension = match.group(1)
    mime = next(m for _magic, m, e in SIGNATURES if e == extension)
    return mime, extension


def download_name(original_filename: str, extension: str) -> str:
    """The name a file is offered back under: the user's name, ending in the extension of
    the type it was checked to be. A JPEG uploaded as "page.html" downloads as "page.jpg", so
    no browser or desktop opens it as a web page (OWASP ASVS 4.0.3 V12.5.2: uploaded files
    are never executed as HTML or JavaScript)."""
    name = clean_filename(original_filename)
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and f".{suffix.lower()}" in EXTENSION_ALIASES[extension]:
        return name
    if dot and stem and re.fullmatch(r"[A-Za-z0-9]{1,10}", suffix):
        name = stem
    return f"{name}{extension}"
