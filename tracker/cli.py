"""Command line: `flask --app app init-db | seed-demo | create-user | backup | restore |
send-notifications | send-digest`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from tracker.extensions import db, db_session
from tracker.models import ICB_ROLES, Icb, Practice, Role
from tracker.services import notifications
from tracker.services.directory import UserDetails, load_icbs, save_user
from tracker.services.errors import DomainError
from tracker.services.mailing import MailSettings, missing_settings
from tracker.services.restore import Schema


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(send_notifications)
    app.cli.add_command(send_digest)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Bring the database schema up to date and load the ICB directory."""
    upgrade()
    added = load_icbs(db_session())
    db_session().commit()
    click.echo(f"Database ready; {added} ICBs added to the directory.")


@click.command("seed-demo")
@with_appcontext
@click.option("--password", help="Password for every demo user (default: a random one, printed).")
def seed_demo(password: str | None) -> None:
    """Load the demo data once (idempotent); with --password, reset the demo users' password."""
    from tracker import demo

    if password is not None:
        problem = demo.demo_password_problem(password)
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
    if demo.demo_present(db_session()):
        if password:
            count = demo.reset_demo_passwords(db_session(), password)
            db_session().commit()
            click.echo(f"Demo data already present; password reset for {count} demo users.")
        else:
            click.echo(
                "Demo data already present (password as printed on first start; "
                "reset it with: .venv/bin/flask --app app seed-demo --password NEW-PASSWORD)."
            )
        return
    password = password or demo.random_demo_password()
    demo.seed_demo(db_session(), password, upload_folder=current_app.config["UPLOAD_FOLDER"])
    db_session().commit()
    click.echo("Demo data loaded. Sign in at http://127.0.0.1:5000 with any of:")
    for email, (_name, role) in demo.DEMO_USERS.items():
        click.echo(f"  {email:<24} {role.label if role else 'Administrator'}")
    click.echo(f"Password for all demo users: {password}")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", default=None, help="Full name (default: the part of the email before @).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None)
@click.option("--practice", "practices", multiple=True, help="Practice ODS code (repeatable).")
@click.option(
    "--icb", "icb_code", default=None, help="ICB ODS code, for ICB reviewers and approvers."
)
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
def create_user(
    email: str,
    password: str,
    name: str | None,
    role: str | None,
    practices: tuple[str, ...],
    icb_code: str | None,
    admin: bool,
) -> None:
    """Create a user with a role at practices or an ICB."""
    practice_ids = []
    for code in practices:
        practice = db_session().scalar(db.select(Practice).where(Practice.ods_code == code.upper()))
        if practice is None:
            raise click.BadParameter(f"no practice with ODS code {code}", param_hint="--practice")
        practice_ids.append(practice.id)
    icb_id = None
    if icb_code:
        icb = db_session().scalar(db.select(Icb).where(Icb.ods_code == icb_code.upper()))
        if icb is None:
            raise click.BadParameter(f"no ICB with ODS code {icb_code}", param_hint="--icb")
        icb_id = icb.id
    if role in (Role.PRACTICE_MANAGER, Role.FINANCE) and not practice_ids:
        raise click.BadParameter("this role needs at least one --practice", param_hint="--role")
    if role in ICB_ROLES and icb_id is None:
        raise click.BadParameter("an ICB role needs --icb", param_hint="--role")
    if not role and not admin:
        raise click.BadParameter("give a --role, or --admin", param_hint="--role")
    details = UserDetails(
        name=name or email.split("@")[0],
        email=email,
        role=role,
        practice_ids=practice_ids,
        icb_id=icb_id,
        is_admin=admin,
        password=password,
    )
    try:
        save_user(db_session(), None, details)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db_session().commit()
    click.echo(f"User {email} created.")


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="ZIP file to write (default: instance/backups/backup-<time>.zip).",
)
@with_appcontext
def backup(output: Path | None) -> None:
    """Write a consistent copy of the database and the uploaded files to one ZIP (replacing
    the file only once the new one is complete)."""
    from tracker.services.backup import write_backup

    if output is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        output = Path(current_app.instance_path) / "backups" / f"backup-{stamp}.zip"
    try:
        result = write_backup(db.engine, Path(current_app.config["UPLOAD_FOLDER"]), output)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    rows = sum(result.rows.values())
    click.echo(f"Backup written to {output}: {rows} rows, {result.files} files.")
    if result.missing_files:
        click.echo(
            f"Warning: {len(result.missing_files)} evidence files were not in the upload folder "
            f"({', '.join(result.missing_files[:5])}): this backup will not restore until they "
            "are put back and a new backup is taken.",
            err=True,
        )


def known_schema() -> Schema:
    """The migrations this release ships, oldest first, read from the migrations folder."""
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config)
    return Schema(tuple(reversed([revision.revision for revision in script.walk_revisions()])))


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore(source: Path) -> None:
    """Restore a backup into a new database that only init-db has run on."""
    from tracker.services.restore import restore_backup

    try:
        result = restore_backup(
            db.engine, Path(current_app.config["UPLOAD_FOLDER"]), source, known_schema()
        )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    rows = sum(result.rows.values())
    click.echo(f"Restored {rows} rows and {result.files} files from {source}.")


def _mail_settings() -> MailSettings:
    """The mail settings, or exit non-zero saying which are missing (nothing is touched)."""
    settings = MailSettings.from_config(current_app.config)
    if settings is None:
        missing = ", ".join(missing_settings(current_app.config))
        raise click.ClickException(f"No mail settings: set {missing}. Nothing was sent.")
    return settings


@click.command("send-notifications")
@with_appcontext
def send_notifications() -> None:
    """Email each waiting notification of the people who want an email per event (cron:
    every 5 minutes). Safe to run twice at once: no email goes twice."""
    settings = _mail_settings()
    result = notifications.send_each(db_session(), settings, current_app.config["BASE_URL"])
    click.echo(f"Notifications: {result.summary}.")
    if result.failed:
        raise SystemExit(1)


@click.command("send-digest")
@with_appcontext
def send_digest() -> None:
    """Email each person who chose the daily digest one message listing their waiting
    notifications (cron: daily at 07:00 Europe/London)."""
    settings = _mail_settings()
    result = notifications.send_digests(db_session(), settings, current_app.config["BASE_URL"])
    click.echo(f"Digests: {result.summary}.")
    if result.failed:
        raise SystemExit(1)
