"""The rate card's "add your own rate" form: it only reads what was typed; the rules are
services.rates'."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from tracker.forms import strip_filter
from tracker.incidents.forms import UKDateField


class OwnRateForm(FlaskForm):
    key = SelectField("Rate", validate_choice=False)
    valid_from = UKDateField(
        "Applies to costs from", "Enter the date as a real date, like 01/08/2025"
    )
    value = StringField("Figure", filters=[strip_filter])
    source = TextAreaField("Where the figure comes from", filters=[strip_filter])
