"""Form pieces shared by every area."""

from __future__ import annotations

from wtforms import SelectMultipleField, widgets


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (rendered as an NHS.UK checkbox group by macros/forms.html)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def strip_filter(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def upper_filter(value: str | None) -> str | None:
    return value.strip().upper() if isinstance(value, str) else value


def blank_to_none(value: str | None) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
