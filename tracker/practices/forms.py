"""The rate card's "add your own rate" form: it only reads what was typed; the rules are
services.rates'."""

from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField

from tracker.forms import AppForm, strip_filter
from tracker.incidents.forms import UKDateField
from tracker.models import RateCardItem
from tracker.services.money import MAX_TYPED_NUMBER


class OwnRateForm(AppForm):
    model = RateCardItem
    limits = {"value": MAX_TYPED_NUMBER}

    key = SelectField("Rate", validate_choice=False)
    valid_from = UKDateField(
        "Applies to costs from", "Enter the date as a real date, like 01/08/2025"
    )
    value = StringField("Figure", filters=[strip_filter])
    source = TextAreaField("Where the figure comes from", filters=[strip_filter])
