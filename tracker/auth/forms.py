"""Sign-in and change-password forms. The password rules themselves live in
services.accounts (`password_problem`), shared with the admin forms and the command line."""

from __future__ import annotations

from flask_login import current_user
from wtforms import Field, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from tracker.forms import AppForm
from tracker.models import NotifyPreference, User
from tracker.services.accounts import MIN_PASSWORD_LENGTH, password_problem

PASSWORD_HINT = (
    f"At least {MIN_PASSWORD_LENGTH} characters. Not a common password, nor one built from "
    "the email address or name: three random words work well."
)


class LoginForm(AppForm):
    model = User

    email = StringField("Email", validators=[DataRequired("Enter your email address")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password")])


class ChangePasswordForm(AppForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password")]
    )
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password")])
    confirm_password = PasswordField(
        "Confirm new password",
        validators=[
            DataRequired("Enter the new password again"),
            EqualTo("new_password", "The passwords do not match"),
        ],
    )

    def validate_new_password(self, field: Field) -> None:
        """The service's policy, checked here too so every problem shows at once."""
        problem = password_problem(
            field.data or "", email=current_user.email, name=current_user.name
        )
        if problem:
            raise ValidationError(problem)


NOTIFY_CHOICE = "Choose how you want to hear about claims"


class NotificationsForm(AppForm):
    """How the signed-in user hears about claims by email (services.notifications)."""

    notify = RadioField(
        "How do you want to hear about claims?",
        choices=[(preference.value, preference.label) for preference in NotifyPreference],
        validate_choice=False,  # checked below, with a message that says what to do
    )

    def validate_notify(self, field: Field) -> None:
        if field.data not in {preference.value for preference in NotifyPreference}:
            raise ValidationError(NOTIFY_CHOICE)
