"""Sign in, sign out, change password. Every other page needs a signed-in user."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from tracker.auth.forms import PASSWORD_HINT, ChangePasswordForm, LoginForm, NotificationsForm
from tracker.extensions import db_session
from tracker.models import NotifyPreference, utcnow
from tracker.redirects import redirect_to_next
from tracker.services import accounts, notifications
from tracker.services.errors import Invalid
from tracker.view_helpers import add_field_error, show_domain_error

bp = Blueprint("auth", __name__)

PUBLIC_ENDPOINTS = {"auth.login", "static", "main.accessibility"}


@bp.before_app_request
def require_login() -> Response | None:
    """Every page but the sign-in page and static files needs a signed-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def _throttle_limits() -> accounts.ThrottleLimits:
    config = current_app.config
    return accounts.ThrottleLimits(
        per_pair=config["LOGIN_MAX_FAILURES_PER_MINUTE"],
        per_account=config["LOGIN_MAX_FAILURES_PER_ACCOUNT_PER_MINUTE"],
        per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS_PER_MINUTE"],
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.sign_in(
                db_session(),
                form.email.data or "",
                form.password.data or "",
                request.remote_addr or "unknown",
                _throttle_limits(),
            )
        except accounts.TooManyAttempts:
            abort(429)
        if user is None:
            add_field_error(form.password, "Incorrect email or password")
            return render_template("auth/login.html", form=form)
        user.last_login_at = utcnow()
        db_session().commit()
        session.clear()
        login_user(user)
        return redirect_to_next(request.args.get("next"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out, and end every other session of the user too: a session is a signed cookie,
    so only raising the user's session version makes a saved copy stop working."""
    if current_user.is_authenticated:
        accounts.sign_out_everywhere(current_user)
        db_session().commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, form.current_password.data or "", form.new_password.data or ""
            )
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            db_session().commit()
            # this session carries on under the new session version (the proxy's user itself:
            # Flask-Login keeps what it is given as the current user)
            login_user(current_user._get_current_object())
            flash(
                "Your password has been changed. You have been signed out everywhere else.",
                "success",
            )
            return redirect(url_for("main.dashboard"))
    return render_template("auth/change_password.html", form=form, password_hint=PASSWORD_HINT)


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notification_settings() -> str | Response:
    """Each user chooses an email per event, a daily digest or none (issue 14)."""
    form = NotificationsForm(
        data=None if request.method == "POST" else {"notify": current_user.notify}
    )
    if form.validate_on_submit():
        try:
            notifications.set_preference(db_session(), current_user, form.notify.data or "")
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            db_session().commit()
            flash(f"Saved: {NotifyPreference(current_user.notify).label.lower()}.", "success")
            return redirect(url_for("auth.notification_settings"))
    return render_template("auth/notifications.html", form=form)
