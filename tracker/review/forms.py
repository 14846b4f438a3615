"""Forms of the review area: the claims filter, a line decision, a practice's answer,
sending a claim back, the work queue's filter, assignment and target."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField
from wtforms import (
    DateField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from tracker.forms import AppForm, MultiCheckboxField, strip_filter, whole_id
from tracker.incidents.forms import UKDateField
from tracker.models import CostKind, ReviewStatus
from tracker.services.claim_checks import CAPS
from tracker.services.money import MAX_TYPED_NUMBER, parse_decimal, with_figures_hint
from tracker.services.review import DECISION_LABELS, MAX_ANSWER, MAX_REASON, REVIEW_STATUS_LABELS
from tracker.services.sign_off import MAX_SEND_BACK_REASON
from tracker.services.work_queue import MAX_TARGET_DAYS, SHOW_LABELS


class ClaimFilterForm(AppForm):
    """Read from the query string (GET), so no CSRF token."""

    class Meta:
        csrf = False

    outage_event_id = SelectField("Outage event", coerce=whole_id, validate_choice=False, default=0)
    practice_id = SelectField("Practice", coerce=whole_id, validate_choice=False, default=0)
    review_status = SelectField(
        "Review status",
        choices=[("", "Any status")]
        + [(status.value, label) for status, label in REVIEW_STATUS_LABELS.items()],
        default="",
        validate_choice=False,
    )
    issued_from = DateField("Issued from", validators=[Optional()])
    issued_to = DateField("Issued to", validators=[Optional()])

    def validate_review_status(self, field: SelectField) -> None:
        if field.data and field.data not in {s.value for s in ReviewStatus}:
            raise ValidationError("Choose a review status from the list")

    def validate_issued_to(self, field: DateField) -> None:
        if field.data and self.issued_from.data and field.data < self.issued_from.data:
            raise ValidationError("The 'issued to' date must be on or after the 'issued from' date")


class LineDecisionForm(AppForm):
    limits = {"approved_amount": MAX_TYPED_NUMBER, "reason": MAX_REASON}

    decision = RadioField(
        "Decision",
        choices=[(d.value, label) for d, label in DECISION_LABELS.items()],
        validators=[DataRequired("Choose a decision for this line")],
    )
    approved_amount = StringField("Amount approved", filters=[strip_filter])
    reason = TextAreaField("Reason", filters=[strip_filter])

    def validate_approved_amount(self, field: StringField) -> None:
        if self.decision.data == "part_approved":
            if not field.data:
                raise ValidationError("Enter the amount approved for this line")
            if parse_decimal(field.data) is None:
                raise ValidationError(
                    with_figures_hint(
                        "Enter the amount approved as a number, like 125.50", field.data
                    )
                )

    def validate_reason(self, field: TextAreaField) -> None:
        if self.decision.data and self.decision.data != "approved" and not field.data:
            raise ValidationError("Give a reason: it is required unless the line is approved")


class AnswerForm(AppForm):
    limits = {"body": MAX_ANSWER}
    nouns = {"body": "Answer"}

    body = TextAreaField(
        "Your answer",
        filters=[strip_filter],
        validators=[
            DataRequired("Write your answer to the query"),
        ],
    )
    evidence = FileField("Attach evidence")


class SendBackForm(AppForm):
    """An ICB finance approver returns a recommended claim to the reviewers."""

    limits = {"reason": MAX_SEND_BACK_REASON}
    nouns = {"reason": "Reason"}

    reason = TextAreaField(
        "Why are you sending it back?",
        filters=[strip_filter],
        validators=[DataRequired("Say why you are sending the claim back")],
    )


class QueueForm(AppForm):
    """Which claims the work queue lists; read from the query string (GET), so no CSRF."""

    class Meta:
        csrf = False

    show = RadioField(
        "Show claims",
        choices=[(show.value, label) for show, label in SHOW_LABELS.items()],
        default="all",
    )


class AssignForm(AppForm):
    """Assign a claim to a reviewer of its ICB (0: to no one). `seen` is whom it was
    assigned to when the page was drawn, so a change made meanwhile is noticed."""

    limits = {"seen": 12, "next": 2000}

    assignee = SelectField("Assign to", coerce=whole_id, validate_choice=True)
    seen = HiddenField()
    next = HiddenField()


class ReviewTargetForm(AppForm):
    """How many days a claim may wait before the work queue flags it."""

    review_target_days = IntegerField(
        "Target, in days",
        validators=[
            InputRequired("Enter the target as a whole number of days"),
            NumberRange(
                min=1,
                max=MAX_TARGET_DAYS,
                message=f"Enter a number of days from 1 to {MAX_TARGET_DAYS}",
            ),
        ],
    )


CLAIMABLE_LABELS = {
    CostKind.STAFF: "Staff time (extra hours and overtime)",
    CostKind.LOCUM: "Locum cover",
    CostKind.APPOINTMENTS: "Lost appointments (clinical capacity lost, a notional value)",
    CostKind.EXPENSE: "Other expenses",
}


def _money_field(label: str) -> StringField:
    return StringField(label, filters=[strip_filter])


def _read_money(field: StringField, example: str) -> None:
    """A blank is no limit; anything else must read as an amount."""
    if field.data and parse_decimal(field.data) is None:
        raise ValidationError(
            with_figures_hint(f"Enter the amount in figures, like {example}", field.data)
        )


class PolicyForm(AppForm):
    """An ICB's claim policy for one outage event. The caps' fields (cap_<key>, one per
    services.claim_checks.CAPS) are added below the class; blank is no cap."""

    limits = {
        **{f"cap_{spec.key}": MAX_TYPED_NUMBER for spec in CAPS},
        "evidence_above": MAX_TYPED_NUMBER,
        "max_hours_per_day": MAX_TYPED_NUMBER,
        "window_days": MAX_TYPED_NUMBER,
        "seen_version": MAX_TYPED_NUMBER,
    }

    claimable = MultiCheckboxField(
        "What does your ICB reimburse for this outage?",
        choices=[(kind.value, CLAIMABLE_LABELS[kind]) for kind in CostKind],
    )
    max_hours_per_day = StringField("Most hours a person a day", filters=[strip_filter])
    evidence_above = _money_field("Evidence required for any cost over")
    window_days = StringField("Costs accepted up to", filters=[strip_filter])
    deadline = UKDateField(
        "Deadline for claims", "Enter the deadline as a real date, like 31/10/2024"
    )
    seen_version = HiddenField()

    def validate_claimable(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError("Choose at least one kind of cost your ICB reimburses")

    def validate_evidence_above(self, field: StringField) -> None:
        _read_money(field, "250.00")

    def validate_max_hours_per_day(self, field: StringField) -> None:
        if field.data and parse_decimal(field.data) is None:
            raise ValidationError(
                with_figures_hint("Enter the hours in figures, like 12", field.data)
            )

    def validate_window_days(self, field: StringField) -> None:
        if field.data and not field.data.isdigit():
            raise ValidationError("Enter the number of days as a whole number, like 28")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for spec in CAPS:
            cap = self[f"cap_{spec.key}"]
            if cap.data and parse_decimal(cap.data) is None and not cap.errors:
                cap.errors = [
                    with_figures_hint("Enter the cap as an amount, like 340.00", cap.data)
                ]
                valid = False
        return valid

    def cap_fields(self, kind: str) -> list[tuple[Field, str]]:
        """The cap fields of one kind, each with what it is per ("an hour")."""
        return [(self[f"cap_{spec.key}"], spec.per) for spec in CAPS if spec.kind == kind]


for _spec in CAPS:
    setattr(PolicyForm, f"cap_{_spec.key}", _money_field(_spec.label))
