"""What the bytes of a document depend on besides its data: the code that lays it out, the
fonts it embeds and the libraries that write it. An entity tag of an issued document
(services.invoice_documents.document_tag) includes this, so a release that changes a
layout never lets a browser keep the previous bytes under the same tag."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
#: The modules whose code shapes a document's bytes: the builders, the printed formats of
#: money, dates and quantities, and the cost kinds' labels.
SOURCES = ("documents/*.py", "presentation.py", "cost_kinds.py")
LIBRARIES = ("reportlab", "openpyxl", "pypdf", "pillow")


@cache
def builders_version() -> str:
    """A digest of the builders' source, the embedded fonts (by name and size: they are
    only ever replaced whole) and the writing libraries' versions; worked out once a process."""
    digest = hashlib.sha256()
    for pattern in SOURCES:
        for path in sorted(PACKAGE.glob(pattern)):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for font in sorted((PACKAGE / "fonts").glob("*.ttf")):
        digest.update(f"{font.name}:{font.stat().st_size}".encode())
    for library in LIBRARIES:
        digest.update(f"{library}=={metadata.version(library)}".encode())
    return digest.hexdigest()
