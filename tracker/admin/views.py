"""Administration: users, practices and the ICB directory. Administrators only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.access import admin_required
from tracker.admin.forms import IcbForm, PracticeForm, UserForm
from tracker.auth.forms import PASSWORD_HINT
from tracker.extensions import db, db_session
from tracker.models import Icb, Practice, User
from tracker.services import audit, directory
from tracker.services.errors import Invalid
from tracker.services.practices import save_practice
from tracker.view_helpers import show_domain_error

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@admin_required
def only_admins() -> None:
    """Every page here is for administrators."""


@bp.route("/")
def index() -> str:
    return render_template("admin/index.html")


# --- users -----------------------------------------------------------------------------


@bp.route("/users")
def users() -> str:
    rows = db_session().scalars(select(User).order_by(User.name)).all()
    return render_template("admin/users.html", users=rows)


def _user_form(user: User | None) -> UserForm:
    form = UserForm(obj=user)
    form.practice_ids.choices = [
        (p.id, f"{p.name} ({p.ods_code})")
        for p in db_session().scalars(select(Practice).order_by(Practice.name))
    ]
    form.icb_id.choices = [(0, "Not an ICB reviewer")] + [
        (i.id, f"{i.name} ({i.ods_code})")
        for i in db_session().scalars(select(Icb).order_by(Icb.name))
    ]
    if user is not None and request.method == "GET":
        roles = user.roles
        form.role.data = next(iter(roles)).value if roles else ""
        form.practice_ids.data = [p.id for p in user.practices]
        form.icb_id.data = user.icb.id if user.icb else 0
    return form


def _save_user(user: User | None) -> str | Response:
    form = _user_form(user)
    if form.validate_on_submit():
        details = directory.UserDetails(
            name=form.name.data or "",
            email=form.email.data or "",
            role=form.role.data or None,
            practice_ids=form.practice_ids.data or [],
            icb_id=form.icb_id.data or None,
            is_admin=form.is_admin.data,
            active=form.active.data,
            password=form.password.data or None,
        )
        try:
            saved = directory.save_user(db_session(), user, details)
            audit.record(
                db_session(),
                user_id=current_user.id,
                entity=saved,
                action="create" if user is None else "update",
                summary=f"User {saved.email} saved",
            )
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            if saved.id == current_user.id and details.password:
                # a new password ends the user's sessions; not the one that just set it
                login_user(saved)
            flash(f"{saved.name} has been saved.", "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html", form=form, user=user, password_hint=PASSWORD_HINT
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user() -> str | Response:
    return _save_user(None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id: int) -> str | Response:
    return _save_user(db.get_or_404(User, user_id))


# --- practices -------------------------------------------------------------------------


@bp.route("/practices")
def practices() -> str:
    rows = db_session().scalars(select(Practice).order_by(Practice.name)).all()
    return render_template("admin/practices.html", practices=rows)


def _save_practice(practice: Practice | None) -> str | Response:
    form = PracticeForm(obj=practice)
    form.icb_id.choices = [
        (i.id, f"{i.name} ({i.ods_code})")
        for i in db_session().scalars(select(Icb).where(Icb.retired.is_(False)).order_by(Icb.name))
    ]
    if form.validate_on_submit():
        try:
            practice = save_practice(db_session(), practice, form.data, user_id=current_user.id)
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            flash(f"{practice.name} has been saved.", "success")
            return redirect(url_for("admin.practices"))
    return render_template("admin/practice_form.html", form=form, practice=practice)


@bp.route("/practices/new", methods=["GET", "POST"])
def new_practice() -> str | Response:
    return _save_practice(None)


@bp.route("/practices/<int:practice_id>/edit", methods=["GET", "POST"])
def edit_practice(practice_id: int) -> str | Response:
    return _save_practice(db.get_or_404(Practice, practice_id))


# --- ICBs ------------------------------------------------------------------------------


@bp.route("/icbs")
def icbs() -> str:
    rows = db_session().scalars(select(Icb).order_by(Icb.retired, Icb.name)).all()
    return render_template("admin/icbs.html", icbs=rows)


def _save_icb(icb: Icb | None) -> str | Response:
    form = IcbForm(obj=icb)
    if form.validate_on_submit():
        try:
            icb = directory.save_icb(db_session(), icb, form.data, user_id=current_user.id)
        except Invalid as error:
            show_domain_error(form, error)
        else:
            db_session().commit()
            flash(f"{icb.name} has been saved.", "success")
            return redirect(url_for("admin.icbs"))
    return render_template("admin/icb_form.html", form=form, icb=icb)


@bp.route("/icbs/new", methods=["GET", "POST"])
def new_icb() -> str | Response:
    return _save_icb(None)


@bp.route("/icbs/<int:icb_id>/edit", methods=["GET", "POST"])
def edit_icb(icb_id: int) -> str | Response:
    return _save_icb(db.get_or_404(Icb, icb_id))
