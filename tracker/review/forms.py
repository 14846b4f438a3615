"""Forms of the review area: the claims filter, a line decision, a practice's answer,
sending a claim back, the work queue's filter, assignment and target."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from tracker.forms import AppForm, strip_filter, whole_id
from tracker.models import ReviewStatus
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
