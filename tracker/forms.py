"""Form pieces shared by every area, and the base every form derives from (AppForm).

AppForm holds the rules that apply to every text a user can send, so no form can forget
them (tests/integration/test_text_limits.py walks every form to check that it derives from
AppForm and that each text field has a limit):

- a text field holds no more than its column does: the length comes from the model's
  String column of the same name (`model`), or from `limits` for a field with another name
  or an unbounded TEXT column; the message is worded once, in services.text;
- no text holds a control character (tab and line breaks are allowed in a textarea);
- no text (but a password) holds a character our PDFs cannot print (services.text
  printable_problem: most emoji, private-use characters);
- a file sent where text is expected is an error next to that field, not a crash.

OWASP ASVS 4.0.3 V5.1.3 and V5.1.4 (input validated for length and characters on the
server); V7.4.1 (no stack trace, a message).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import (
    Field,
    FileField,
    PasswordField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.form import BaseForm

from tracker.models import Base, string_length
from tracker.services.text import control_problem, length_problem, parse_id, printable_problem

#: What a text field says when a file part arrives in its place (no browser sends one).
FILE_IN_TEXT = "Enter text here, not a file"


class AppForm(FlaskForm):
    """Every form of the application: the text rules above, then the form's own checks."""

    #: The model whose String columns limit this form's text fields of the same name.
    model: ClassVar[type[Base] | None] = None
    #: Limits of text fields that have no column of their name, or an unbounded TEXT one.
    limits: ClassVar[Mapping[str, int]] = {}
    #: How a field is named in its messages when not by its label ("Name", not "Full name").
    nouns: ClassVar[Mapping[str, str]] = {}

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: BaseForm, formdata: Any) -> Any:
            """The request's parts, without a file sent in place of a text field: WTForms
            would hand the file to a text field, whose filters and checks expect text."""
            data = super().wrap_formdata(form, formdata)
            if data is None or not isinstance(form, AppForm):
                return data
            files = {field.name for field in form if isinstance(field, FileField)}
            kept: MultiDict[str, Any] = MultiDict()
            for key, value in data.items(multi=True):
                if isinstance(value, FileStorage) and key not in files:
                    form.file_parts_in_text.add(key)
                else:
                    kept.add(key, value)
            return kept

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.file_parts_in_text: set[str] = set()
        super().__init__(*args, **kwargs)

    def limit_of(self, name: str) -> int | None:
        """The most characters the text field `name` may hold, or None when unlimited."""
        if name in self.limits:
            return self.limits[name]
        return string_length(self.model, name) if self.model is not None else None

    def noun_of(self, field: Field) -> str:
        return self.nouns.get(field.short_name, field.label.text)

    def text_problem(self, field: Field) -> str | None:
        """What is wrong with the text typed into `field` under the common rules, or None."""
        if field.short_name in self.file_parts_in_text:
            return FILE_IN_TEXT
        if isinstance(field, FileField):
            return None
        typed = [value for value in field.raw_data or () if isinstance(value, str)]
        noun = self.noun_of(field)
        multiline = isinstance(field, TextAreaField)
        secret = isinstance(field, PasswordField)
        for text in typed:
            problem = control_problem(noun, text, multiline=multiline) or (
                None if secret else printable_problem(noun, text)
            )
            if problem:
                return problem
        if isinstance(field, StringField) and not isinstance(field, PasswordField):
            data = field.data if isinstance(field.data, str) else None
            return length_problem(noun, data, self.limit_of(field.short_name))
        return None

    def validate(self, extra_validators: Any = None) -> bool:
        """The form's own checks, then the common text rules; a field keeps one message."""
        valid = super().validate(extra_validators)
        for field in self:
            problem = self.text_problem(field)
            if problem is None:
                continue
            valid = False
            if not field.errors or problem == FILE_IN_TEXT:
                # a file in place of text reads as a blank field: say what really happened
                field.errors = [problem]
        return valid


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (rendered as an NHS.UK checkbox group by macros/forms.html)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def whole_id(value: Any) -> int:
    """`coerce` for a choice of record ids (0 for "all" or "none"): a number an id can be,
    read by services.text.parse_id. Anything else, such as an id too large for any column
    (an error on PostgreSQL), is refused as a choice."""
    if value in (0, "0"):
        return 0
    number = parse_id(value)
    if number is None:
        raise ValueError("Not a valid choice")
    return number


def strip_filter(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def upper_filter(value: str | None) -> str | None:
    return value.strip().upper() if isinstance(value, str) else value


def blank_to_none(value: str | None) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
