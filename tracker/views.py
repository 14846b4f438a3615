"""Small helpers shared by the thin views of every area."""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_wtf import FlaskForm

from tracker.extensions import db
from tracker.services.errors import DomainError

T = TypeVar("T")


def get_or_404(model: type[T], object_id: int) -> T:
    """Fetch by primary key or answer 404. Only for objects that need no practice scope
    (administration); everything else goes through tracker.access."""
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Put a service's refusal next to the field it concerns, or at the top of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
