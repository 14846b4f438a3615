"""Every text field's limit comes from its column, and is checked beside the field, the same
on SQLite and PostgreSQL; no text holds a control character (issue 12, defect 4).

The cases are generated, not listed: every form class of the application (found by walking
FlaskForm's subclasses after importing every area), every text field on it, and the limit
the model's String column declares (or the form's own limit for an unbounded column, or the
cost kind's for a detail). One character over is refused with "<noun> must be N characters
or fewer"; exactly N is not refused for its length. A new form or field is covered without
touching this file, and a text field with no limit fails `test_every_text_field_has_a_limit`.

Before: PostgreSQL answered 500 (value too long, NUL byte) where SQLite stored the text.
"""

from __future__ import annotations

import html
import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from wtforms import Field, PasswordField, SelectFieldBase, StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Optional

import tracker
from tests.conftest import build_app
from tests.factories import World, make_incident
from tests.integration.test_incidents import incident_form, staff_form
from tracker.cost_kinds import KINDS
from tracker.extensions import db
from tracker.forms import AppForm
from tracker.models import CostLine, Incident, string_length


def _all_form_classes() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(tracker.__path__, "tracker."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    found: list[type[FlaskForm]] = []
    stack = list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(
        {c for c in found if c.__module__.startswith("tracker.")}, key=lambda c: c.__qualname__
    )


FORMS = [c for c in _all_form_classes() if c is not AppForm]


@pytest.fixture(scope="module")
def plain_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """An app to build forms in (no database is touched)."""
    folder = tmp_path_factory.mktemp("forms")
    return build_app(f"sqlite:///{folder / 'unused.db'}", folder)


def _text_fields(form: AppForm) -> Iterator[Field]:
    for field in form:
        if isinstance(field, StringField) and not isinstance(field, PasswordField):
            yield field


def _cases() -> list[tuple[type[AppForm], str]]:
    """(form, text field) for every text field of every form, read from the classes (their
    unbound fields), so no application is needed to list them."""
    cases = []
    for cls in FORMS:
        if not issubclass(cls, AppForm):
            continue  # test_every_form_derives_from_the_common_base says so
        for name in dir(cls):
            unbound = getattr(cls, name, None)
            if (
                isinstance(unbound, UnboundField)
                and issubclass(unbound.field_class, StringField)
                and not issubclass(unbound.field_class, PasswordField)
            ):
                cases.append((cls, name))
    return cases


def _has_format_check(form: AppForm, field: Field) -> bool:
    """A field with a check of its own beyond being required (an email, a code, an amount, a
    password's length) refuses the filler text first: its own message is shown, and the
    common one only when the field's own check passes."""
    inline = hasattr(form, f"validate_{field.short_name}")
    required = (InputRequired, DataRequired, Optional)
    return inline or any(not isinstance(v, required) for v in field.validators)


def _submit(cls: type[AppForm], name: str, text: str) -> AppForm:
    form = cls(formdata=MultiDict({name: text}))
    for field in form:  # choices the views fill in from the database
        if isinstance(field, SelectFieldBase) and getattr(field, "choices", ()) is None:
            field.choices = []
    form.validate()
    return form


#: every text field of every form, as (form class, field name)
EACH_TEXT_FIELD = pytest.mark.parametrize(
    ("cls", "name"), _cases(), ids=lambda v: v if isinstance(v, str) else v.__qualname__
)


def test_every_form_derives_from_the_common_base() -> None:
    assert len(FORMS) >= 20, FORMS
    outside = [c.__qualname__ for c in FORMS if not issubclass(c, AppForm)]
    assert not outside, f"forms without the common text rules: {outside}"


def test_every_text_field_has_a_limit(plain_app: Flask) -> None:
    missing, wider = [], []
    with plain_app.test_request_context():
        for cls in FORMS:
            form = cls()
            for field in _text_fields(form):
                limit = form.limit_of(field.short_name)
                if limit is None:
                    missing.append(f"{cls.__qualname__}.{field.short_name}")
                column = string_length(form.model, field.short_name) if form.model else None
                if column is not None and limit is not None and limit > column:
                    wider.append(f"{cls.__qualname__}.{field.short_name}: {limit} > {column}")
    assert not missing, f"text fields with no limit: {missing}"
    assert not wider, f"limits wider than their columns: {wider}"


def test_cost_kind_limits_are_the_columns() -> None:
    """The cost kinds' description limit is the column's (the model declares it from the
    spec), so a line form and the database agree."""
    for spec in KINDS.values():
        assert spec.field_named("description").max_length == string_length(CostLine, "description")


@EACH_TEXT_FIELD
def test_one_character_over_is_refused_beside_the_field(
    plain_app: Flask, cls: type[AppForm], name: str
) -> None:
    with plain_app.test_request_context():
        limit = cls().limit_of(name)
        assert limit is not None
        form = _submit(cls, name, "x" * (limit + 1))
        field = form[name]
        assert field.errors, f"{name}: {limit + 1} characters accepted"
        if not _has_format_check(form, field):
            noun = form.noun_of(field)
            assert field.errors == [
                f"{noun} must be {limit:,} characters or fewer (you entered {limit + 1:,})"
            ]
            at_limit = _submit(cls, name, "x" * limit)[name]
            assert not any("characters or fewer" in e for e in at_limit.errors)


@EACH_TEXT_FIELD
def test_control_characters_are_refused_beside_the_field(
    plain_app: Flask, cls: type[AppForm], name: str
) -> None:
    with plain_app.test_request_context():
        form = _submit(cls, name, "A1\x00b")
        field = form[name]
        assert field.errors, f"{name}: a NUL byte accepted"
        if not _has_format_check(form, field):
            assert "control character" in field.errors[0]
        if isinstance(field, TextAreaField):
            lines = _submit(cls, name, "first line\r\n\tsecond line")[name]
            assert not any("control character" in e for e in lines.errors)
        else:
            tab = _submit(cls, name, "A1\tb")[name]
            assert tab.errors


@EACH_TEXT_FIELD
def test_characters_our_pdfs_cannot_print_are_refused_beside_the_field(
    plain_app: Flask, cls: type[AppForm], name: str
) -> None:
    """A text can reach a document (a name, an address, a title, a reason...): an emoji no
    font of ours draws is refused and named; the scripts the fonts cover are not."""
    with plain_app.test_request_context():
        form = _submit(cls, name, "A1 🦄")
        field = form[name]
        assert field.errors, f"{name}: an unprintable character accepted"
        if not _has_format_check(form, field):
            noun = form.noun_of(field)
            assert field.errors == [
                f"{noun} contains “🦄” (unicorn face), which can't be printed on an invoice or "
                "claim pack: remove it or write it in words"
            ]
        names = _submit(cls, name, "王小明 דוד כהן محمد Łukasz")[name]
        assert not any("can't be printed" in e for e in names.errors)


# --- through the pages, on both databases -----------------------------------------------


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


OVER_DETAIL = "x" * 121


@pytest.mark.parametrize(
    ("kind", "values", "field", "message"),
    [
        ("staff", {"staff_role": OVER_DETAIL}, "staff_role", "Staff member or role must be 120"),
        ("locum", {"locum_name": OVER_DETAIL}, "locum_name", "Locum's name must be 120"),
        (
            "locum",
            {"locum_invoice_ref": OVER_DETAIL},
            "locum_invoice_ref",
            "Locum's invoice number must be 120",
        ),
        ("expense", {"supplier": OVER_DETAIL}, "supplier", "Supplier must be 120"),
        ("staff", {"description": "x" * 501}, "description", "Description must be 500"),
        ("staff", {"staff_role": "Nurse\x00"}, "staff_role", "control character"),
        ("staff", {"description": "Paper\x1b[31m"}, "description", "control character"),
        (
            "locum",
            {"locum_name": "Dr 🦄"},
            "locum_name",
            "Locum's name contains “🦄” (unicorn face)",
        ),
    ],
)
def test_cost_line_text_over_its_limit_is_refused(
    as_manager: FlaskClient,
    world: World,
    kind: str,
    values: dict[str, str],
    field: str,
    message: str,
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    base = {
        "staff": staff_form(),
        "locum": {
            "locum_name": "Dr A Khan",
            "description": "Locum cover",
            "line_date": "2024-07-19",
            "unit": "session",
            "quantity": "2",
            "unit_rate": "357",
            "locum_pension": "none",
        },
        "expense": {
            "supplier": "Ryman",
            "description": "Paper",
            "line_date": "2024-07-19",
            "net_amount": "42.50",
        },
    }[kind]
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/{kind}", data={**base, **values}
    )
    assert response.status_code == 200
    page = html.unescape(response.data.decode())
    assert f'id="{field}-error"' in page
    assert message in page
    assert _count(CostLine) == 0


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"title": "EMIS\x00 down"}, "title", "Title contains a control character"),
        ({"title": "x" * 201}, "title", "Title must be 200 characters or fewer"),
        (
            {"supplier_reference": "x" * 101},
            "supplier_reference",
            "Supplier's incident reference must be 100 characters or fewer",
        ),
        (
            {"systems": ["other"], "systems_other": "x" * 201},
            "systems_other",
            "Other system affected must be 200 characters or fewer",
        ),
        ({"cause": "Faulty\x00 update"}, "cause", "Cause contains a control character"),
        (
            {"title": "EMIS down 😡"},
            "title",
            "Title contains “😡” (pouting face), which can't be printed on an invoice",
        ),
        ({"impact": "x" * 5001}, "impact", "5,000 characters or fewer"),
    ],
)
def test_incident_text_over_its_limit_is_refused(
    as_manager: FlaskClient, world: World, values: dict[str, object], field: str, message: str
) -> None:
    response = as_manager.post("/incidents/new", data=incident_form(**values))
    assert response.status_code == 200
    page = html.unescape(response.data.decode())
    assert f'id="{field}-error"' in page
    assert message in page
    assert _count(Incident) == 0


def test_an_unprintable_character_is_refused_with_the_input_kept(
    as_manager: FlaskClient, world: World
) -> None:
    response = as_manager.post(
        "/incidents/new", data=incident_form(cause="Update 🦄 from\r\nthe supplier")
    )
    assert response.status_code == 200
    page = html.unescape(response.data.decode())
    assert 'id="cause-error"' in page
    assert "Cause contains “🦄” (unicorn face), which can't be printed" in page
    assert "Update 🦄 from" in page  # kept in the field, to be corrected
    assert _count(Incident) == 0
    written = as_manager.post("/incidents/new", data=incident_form(cause="Update 王小明 דוד"))
    assert written.status_code == 302
    assert db.session.scalars(select(Incident)).one().cause == "Update 王小明 דוד"


def test_line_breaks_stay_allowed_in_multi_line_text(as_manager: FlaskClient, world: World) -> None:
    response = as_manager.post(
        "/incidents/new", data=incident_form(cause="First line\r\n\tthen the second")
    )
    assert response.status_code == 302
    assert db.session.scalars(select(Incident)).one().cause == "First line\r\n\tthen the second"
