"""Log an outage and cost it up. Thin views over
services.incidents, services.cost_lines and services.evidence."""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from tracker.access import (
    current_practice,
    current_practice_or_404,
    deciding_icb_ids,
    editable_event_ids,
    event_or_404,
    event_viewer,
    evidence_or_404,
    get_for_practice_or_404,
    may_add_events,
    may_decide_event,
    may_propose_events,
    roles_required,
)
from tracker.charts import Bar, bar_chart
from tracker.columns import columns
from tracker.cost_kinds import CAPACITY_LOST
from tracker.documents import paper_forms
from tracker.extensions import db, db_session
from tracker.incidents.forms import (
    FORMS,
    DecideEventForm,
    EventForm,
    EvidenceForm,
    FilterForm,
    IncidentForm,
    LineForm,
    MergeEventForm,
    ProposeEventForm,
    TimesheetForm,
    TimesheetRowForm,
    combine,
)
from tracker.models import (
    PRACTICE_ROLES,
    CostKind,
    CostLine,
    EventStatus,
    Evidence,
    Incident,
    OutageEvent,
    Role,
    utcnow,
)
from tracker.presentation import duration_text, format_money, period_text, size_text
from tracker.services import capacity, claim_policy, cost_lines, evidence, incidents, settlement
from tracker.services import events as event_service
from tracker.services.dates import today_in_london
from tracker.services.errors import Conflict, DomainError, Invalid
from tracker.services.money import ZERO
from tracker.services.rates import card_on
from tracker.services.text import parse_id
from tracker.view_helpers import (
    query_page,
    say_file_not_kept,
    send_download,
    send_evidence,
    show_domain_error,
    show_domain_errors,
)

bp = Blueprint("incidents", __name__)

practice_staff = roles_required(*PRACTICE_ROLES)


def _incident_or_404(incident_id: int, *options: ORMOption) -> Incident:
    return get_for_practice_or_404(Incident, incident_id, *options)


#: What the incident page shows with the incident, loaded with it: its outage event (its
#: lines come with their evidence from incidents.lines_with_evidence).
INCIDENT_PAGE = (joinedload(Incident.outage_event),)


def _line_or_404(incident: Incident, line_id: int) -> CostLine:
    line: CostLine = db.first_or_404(
        select(CostLine).where(CostLine.id == line_id, CostLine.incident_id == incident.id)
    )
    return line


def _event_choices(practice_id: int) -> list[tuple[int, str]]:
    """The incident form's events: confirmed ones and the practice's own proposals, each
    of those marked as such."""
    return [(0, "Not part of a wider outage")] + [
        (event.id, f"{event.name} (proposed by you)" if event.is_proposed else event.name)
        for event in incidents.event_choices(db_session(), practice_id)
    ]


def _chosen_event(form: IncidentForm, choices: list[tuple[int, str]]) -> None:
    """On a form just opened from a proposal (services.events), the proposed event chosen."""
    asked = parse_id(request.args.get("event", ""))
    if asked is not None and asked in {value for value, _ in choices}:
        form.outage_event_id.data = asked


# --- incidents -------------------------------------------------------------------------


@bp.route("/incidents")
@practice_staff
def index() -> str:
    practice = current_practice_or_404()
    filters = FilterForm(request.args)
    events = incidents.event_choices(db_session(), practice.id)
    filters.event.choices = [("", "Any event"), ("none", "Not part of an event")] + [
        (str(event.id), event.name) for event in events
    ]
    chosen = incidents.IncidentFilter(
        status=request.args.get("status", ""), event=request.args.get("event", "")
    )
    page = db.paginate(
        incidents.incident_query(practice.id, chosen),
        page=query_page(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    totals = incidents.totals_for_incidents(db_session(), [i.id for i in page.items])
    # url_for takes any values; typed Any so they are not matched against its _external etc.
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "incidents/index.html",
        practice=practice,
        page=page,
        totals=totals,
        filters=filters,
        filtered=bool(args),
        page_url=lambda number: url_for("incidents.index", page=number, **args),
    )


def _details(form: IncidentForm) -> incidents.IncidentDetails:
    return incidents.IncidentDetails(
        title=form.title.data or "",
        start_local=combine(form.start_date.data, form.start_time.data),
        end_local=combine(form.end_date.data, form.end_time.data),
        systems=form.systems.data or [],
        systems_other=form.systems_other.data,
        cause=form.cause.data or "",
        supplier_reference=form.supplier_reference.data,
        impact=form.impact.data or "",
        outage_event_id=form.outage_event_id.data or None,
    )


def _incident_form_ok(form: IncidentForm, practice_id: int) -> bool:
    """Whether a posted incident form can be saved: the form's own checks and the service's
    rules run together, so every problem is shown at once, each next to its field."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    problems, _, _ = incidents.incident_problems(
        db_session(), _details(form), utcnow(), practice_id
    )
    said = [p.message for p in problems if p.field == "outage_event_id"]
    if said and form.outage_event_id.errors:
        # not among the choices: the service says why (merged meanwhile, not the practice's)
        form.outage_event_id.errors = said[:1]
    show_domain_errors(form, problems)
    return valid and not problems


@bp.route("/incidents/new", methods=["GET", "POST"])
@practice_staff
def new() -> str | Response:
    practice = current_practice_or_404()
    form = IncidentForm()
    choices = form.outage_event_id.choices = _event_choices(practice.id)
    if request.method == "GET":
        _chosen_event(form, choices)
    if _incident_form_ok(form, practice.id):
        try:
            incident = incidents.create_incident(
                db_session(), practice.id, current_user.id, _details(form), utcnow()
            )
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            flash("The incident has been logged. Now add its costs.", "success")
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    return render_template("incidents/form.html", form=form, incident=None, practice=practice)


@bp.route("/incidents/<int:incident_id>/edit", methods=["GET", "POST"])
@practice_staff
def edit(incident_id: int) -> str | Response:
    incident = _incident_or_404(incident_id)
    form = IncidentForm(obj=incident)
    choices = form.outage_event_id.choices = _event_choices(incident.practice_id)
    if request.method == "GET":
        form.start_date.data, form.start_time.data = incidents.local_parts(incident.starts_at)
        form.end_date.data, form.end_time.data = incidents.local_parts(incident.ends_at)
        form.systems.data = incident.system_keys
        form.outage_event_id.data = incident.outage_event_id or 0
        _chosen_event(form, choices)
    if _incident_form_ok(form, incident.practice_id):
        try:
            incidents.update_incident(
                db_session(), incident, current_user.id, _details(form), utcnow()
            )
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            flash("The incident has been saved.", "success")
            return redirect(url_for("incidents.detail", incident_id=incident.id))
    return render_template(
        "incidents/form.html", form=form, incident=incident, practice=incident.practice
    )


@bp.route("/incidents/<int:incident_id>")
@practice_staff
def detail(incident_id: int) -> str:
    incident = _incident_or_404(incident_id, *INCIDENT_PAGE)
    totals = incidents.incident_totals(db_session(), incident.id)
    by_kind_chart = bar_chart(
        "Cost by kind",
        [Bar(label, amount) for _kind, label, amount in totals.kinds],
        chart_id="chart-kind",
    )
    by_day_chart = None
    if len(totals.by_day) > 1:
        from tracker.presentation import long_date

        by_day_chart = bar_chart(
            "Cost by day",
            [Bar(long_date(day), amount) for day, amount in totals.by_day],
            chart_id="chart-day",
        )
    lines = incidents.lines_with_evidence(db_session(), incident.id)
    lines_by_kind: dict[str, list[CostLine]] = {kind.value: [] for kind in CostKind}
    for line in lines:
        lines_by_kind.setdefault(line.kind, []).append(line)
    span = incidents.duration(incident)
    date_warnings = {
        line.id: warning
        for line in lines
        if (warning := cost_lines.date_warning(line.line_date, incident))
    }
    checks = claim_policy.check_incident(db_session(), incident, today_in_london(), lines)
    return render_template(
        "incidents/detail.html",
        checks=checks,
        date_warnings=date_warnings,
        incident=incident,
        totals=totals,
        by_kind_chart=by_kind_chart,
        by_day_chart=by_day_chart,
        lines_by_kind=lines_by_kind,
        kinds=incidents.kinds_in_section_order(),
        capacity_lost_title=CAPACITY_LOST,
        duration=duration_text(span) if span is not None else None,
        history=incidents.history(db_session(), incident.id),
        claims=settlement.line_claims(db_session(), incident.id, today_in_london()),
        double_counting=capacity.double_counting_warnings(lines),
        paper_forms=paper_forms.FORMS,
    )


@bp.route("/incidents/<int:incident_id>/close", methods=["POST"])
@practice_staff
def close(incident_id: int) -> Response:
    incident = _incident_or_404(incident_id)
    try:
        incidents.close_incident(db_session(), incident, current_user.id)
        db_session().commit()
    except Invalid as error:  # no end time yet: the edit form is where to add it
        db_session().rollback()
        flash(error.message, "error")
        return redirect(url_for("incidents.edit", incident_id=incident.id))
    flash("The incident is closed. You can still add costs that arrive later.", "success")
    return redirect(url_for("incidents.detail", incident_id=incident.id))


@bp.route("/incidents/<int:incident_id>/reopen", methods=["POST"])
@practice_staff
def reopen(incident_id: int) -> Response:
    incident = _incident_or_404(incident_id)
    incidents.reopen_incident(db_session(), incident, current_user.id)
    db_session().commit()
    flash("The incident has been reopened.", "success")
    return redirect(url_for("incidents.detail", incident_id=incident.id))


# --- cost lines ------------------------------------------------------------------------


def _rate_card_prefill(kind: str, incident: Incident) -> cost_lines.Prefill:
    """A new line's figures from the practice's rate card in force on the incident's first
    day (the rule lives in services.cost_lines), and the choices shown as "fill in from your
    rate card" links."""
    param = CostKind(kind).spec.prefill_param
    asked = request.args.get(param) if param else None
    day = _default_line_date(incident)
    card = card_on(db_session(), incident.practice_id, day)
    return cost_lines.prefill(card, kind, asked, on=day)


def _upload(form: LineForm) -> Any:
    upload = form.evidence.data
    return upload if upload and getattr(upload, "filename", "") else None


def _prepare_upload(form: LineForm) -> evidence.PreparedFile | None:
    upload = _upload(form)
    if upload is None:
        return None
    return evidence.prepare(
        current_app.config["UPLOAD_FOLDER"],
        upload.filename,
        upload.stream,
        current_app.config["MAX_UPLOAD_BYTES"],
    )


def _save_line(incident: Incident, kind: str, line: CostLine | None) -> str | Response:
    form_class = FORMS[kind]
    form = form_class(obj=None)
    choices: cost_lines.Prefill | None = None
    if request.method == "GET":
        if line is None:
            choices = _rate_card_prefill(kind, incident)
            # every kind has a date; a new line's defaults to the incident's (unless prefilled)
            values = {"line_date": _default_line_date(incident), **choices.values}
        else:
            values = cost_lines.form_values(cost_lines.line_input_from(line))
        for name, value in values.items():
            getattr(form, name).data = value
    elif line is None:
        # the rate-card links again after a POST, without touching what was typed
        choices = _rate_card_prefill(kind, incident)
    if request.method == "POST":
        inp = cost_lines.line_input(kind, form.data)
        form.validate()
        show_domain_errors(
            form, cost_lines.line_problems(inp, today_in_london(), editing=line is not None)
        )
        if not any(f.errors for f in form) and not form.form_errors:
            prepared = None
            try:
                prepared = _prepare_upload(form)
                if line is None:
                    saved = cost_lines.add_line(
                        db_session(), incident, current_user.id, inp, today_in_london()
                    )[0]
                else:
                    cost_lines.update_line(
                        db_session(), line, current_user.id, inp, today_in_london()
                    )
                    saved = line
                if prepared is not None:
                    evidence.attach(db_session(), prepared, saved, current_user.id)
                db_session().commit()
            except BaseException as error:  # nothing saved, and no stray file either
                db_session().rollback()
                if prepared is not None:
                    prepared.discard()
                if not isinstance(error, DomainError):
                    raise
                show_domain_error(form, error)
            else:
                verb = "added" if line is None else "saved"
                flash(
                    f"{CostKind(kind).label}: {saved.description} {verb}: {saved.working}.",
                    "success",
                )
                warning = cost_lines.date_warning(saved.line_date, incident)
                if warning:
                    flash(f"{saved.description}: {warning}.", "warning")
                _flash_policy_flags(incident, saved)
                return redirect(url_for("incidents.detail", incident_id=incident.id) + "#costs")
        say_file_not_kept(form, form.evidence)
    return render_template(
        "incidents/line_form.html",
        form=form,
        incident=incident,
        line=line,
        kind=CostKind(kind),
        choices=choices,
        policy=claim_policy.practice_view(
            db_session(), incident.outage_event, incident.practice.icb
        ),
        max_upload=size_text(current_app.config["MAX_UPLOAD_BYTES"]),
    )


def _flash_policy_flags(incident: Incident, saved: CostLine) -> None:
    """What the ICB's checks will flag on the line just saved: a warning, never a refusal."""
    checks = claim_policy.check_incident(db_session(), incident, today_in_london())
    found = checks.flags.get(saved.id, [])
    if found:
        said = " ".join(f"{flag.label}: {flag.text}" for flag in found)
        flash(f"{saved.description}, as your ICB will check it. {said}", "warning")


def _default_line_date(incident: Incident) -> Any:
    start, _ = incidents.local_parts(incident.starts_at)
    return start


@bp.route("/incidents/<int:incident_id>/costs/new/<kind>", methods=["GET", "POST"])
@practice_staff
def new_line(incident_id: int, kind: str) -> str | Response:
    incident = _incident_or_404(incident_id)
    if kind not in FORMS:
        abort(404)
    return _save_line(incident, kind, None)


# --- the timesheet: several staff-time lines at once ----------------------------------

#: Empty rows the timesheet starts with, how many "Add more rows" adds, and the most it shows.
TIMESHEET_ROWS = 5
MAX_TIMESHEET_ROWS = 60
_ROW_KEY = re.compile(r"^row-([0-9]{1,3})-(.+)$")


def _row_count(text: str | None) -> int:
    count = int(text) if text and text.isdigit() and len(text) < 4 else TIMESHEET_ROWS
    return min(max(count, 1), MAX_TIMESHEET_ROWS)


def _without_row(formdata: MultiDict[str, Any], removed: int) -> MultiDict[str, Any]:
    """The posted rows less row `removed`, the rows after it moved up by one, as typed."""
    kept: MultiDict[str, Any] = MultiDict()
    for key, value in formdata.items(multi=True):
        match = _ROW_KEY.match(key)
        if match is None:
            kept.add(key, value)
            continue
        number = int(match.group(1))
        if number != removed:
            kept.add(f"row-{number - 1 if number > removed else number}-{match.group(2)}", value)
    return kept


def _timesheet_rows(
    formdata: MultiDict[str, Any] | None, count: int, posted: int, defaults: dict[str, Any]
) -> list[TimesheetRowForm]:
    """`count` rows: the first `posted` read from what was posted (kept as typed), the rest
    new, with the rate card's figures and the incident's date."""
    return [
        TimesheetRowForm(formdata=formdata, prefix=f"row-{number}")
        if formdata is not None and number <= posted
        else TimesheetRowForm(formdata=None, prefix=f"row-{number}", data=defaults)
        for number in range(1, count + 1)
    ]


def _timesheet_line(row: TimesheetRowForm) -> cost_lines.LineInput | None:
    """A row's staff-time line, checked by the staff-time form's rules and the service's
    (services.cost_lines), with its hours from Start and Finish when Hours is blank; the
    problems are shown next to the row's boxes. None when the row has a problem."""
    valid = row.validate()
    hours, hour_problems = cost_lines.worked_hours(
        row.start.data, row.finish.data, row.quantity.data
    )
    inp = cost_lines.line_input(CostKind.STAFF.value, {**row.data, "quantity": hours})
    problems = [*hour_problems, *cost_lines.line_problems(inp, today_in_london())]
    show_domain_errors(row, problems)
    return inp if valid and not problems and not any(f.errors for f in row) else None


@bp.route("/incidents/<int:incident_id>/timesheet", methods=["GET", "POST"])
@practice_staff
def timesheet(incident_id: int) -> str | Response:
    """Several people's staff time at once, a row each. Adding and removing rows are posts
    that show the page again with what was typed, so they work without JavaScript. Saving
    checks every row that is not blank by the staff-time form's rules and saves nothing
    unless all pass; the lines are then added in one transaction, each audited as adding
    it alone would be (services.cost_lines.add_line)."""
    incident = _incident_or_404(incident_id)
    form = TimesheetForm()
    choices = _rate_card_prefill(CostKind.STAFF.value, incident)
    defaults = {
        "line_date": _default_line_date(incident),
        **{k: v for k, v in choices.values.items() if k != "staff_role"},
    }
    if request.method == "GET":
        rows = _timesheet_rows(None, TIMESHEET_ROWS, 0, defaults)
        return _render_timesheet(incident, form, rows, choices)
    formdata: MultiDict[str, Any] = MultiDict(request.form)
    posted = _row_count(request.form.get("rows"))
    removed = request.form.get("remove", "")
    if removed.isdigit() and 1 <= int(removed) <= posted:
        formdata, posted = _without_row(formdata, int(removed)), posted - 1
        rows = _timesheet_rows(formdata, max(posted, 1), posted, defaults)
        return _render_timesheet(incident, form, rows, choices)
    if request.form.get("action") == "add":
        count = min(posted + TIMESHEET_ROWS, MAX_TIMESHEET_ROWS)
        rows = _timesheet_rows(formdata, count, posted, defaults)
        return _render_timesheet(incident, form, rows, choices)
    rows = _timesheet_rows(formdata, posted, posted, defaults)
    filled = [row for row in rows if not row.is_blank()]
    if not filled:
        form.form_errors.append("Enter at least one person's time")
        return _render_timesheet(incident, form, rows, choices)
    inputs = [_timesheet_line(row) for row in filled]
    if any(inp is None for inp in inputs):
        return _render_timesheet(incident, form, rows, choices)
    saved: list[CostLine] = []
    for row, inp in zip(filled, inputs, strict=True):
        assert inp is not None
        try:
            saved += cost_lines.add_line(
                db_session(), incident, current_user.id, inp, today_in_london()
            )
        except DomainError as error:  # checked above; the service has the last word
            db_session().rollback()
            show_domain_error(row, error)
            return _render_timesheet(incident, form, rows, choices)
    db_session().commit()
    total = sum((line.total_amount for line in saved), ZERO)
    count_text = f"{len(saved)} staff-time line{'' if len(saved) == 1 else 's'}"
    flash(f"{count_text} added from the timesheet: {format_money(total)} in all.", "success")
    for line in saved:
        warning = cost_lines.date_warning(line.line_date, incident)
        if warning:
            flash(f"{line.description}: {warning}.", "warning")
    return redirect(url_for("incidents.detail", incident_id=incident.id) + "#kind-staff")


def _render_timesheet(
    incident: Incident,
    form: TimesheetForm,
    rows: list[TimesheetRowForm],
    choices: cost_lines.Prefill,
) -> str:
    return render_template(
        "incidents/timesheet.html",
        incident=incident,
        form=form,
        rows=rows,
        columns=columns(CostKind.STAFF),
        choices=choices,
        add_rows=min(TIMESHEET_ROWS, MAX_TIMESHEET_ROWS - len(rows)),
    )


@bp.route("/incidents/<int:incident_id>/costs/<int:line_id>/edit", methods=["GET", "POST"])
@practice_staff
def edit_line(incident_id: int, line_id: int) -> str | Response:
    incident = _incident_or_404(incident_id)
    line = _line_or_404(incident, line_id)
    try:
        cost_lines.ensure_editable(line)
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for("incidents.line", incident_id=incident.id, line_id=line.id))
    return _save_line(incident, line.kind, line)


@bp.route("/incidents/<int:incident_id>/costs/<int:line_id>", methods=["GET", "POST"])
@practice_staff
def line(incident_id: int, line_id: int) -> str | Response:
    """One cost line: its working and its evidence, with an upload form."""
    incident = _incident_or_404(incident_id)
    cost = _line_or_404(incident, line_id)
    form = EvidenceForm()
    if form.validate_on_submit():
        upload = form.evidence.data
        if not upload or not upload.filename:
            form.evidence.errors = ["Select a PDF, PNG or JPEG file"]
        else:
            try:
                evidence.store(
                    db_session(),
                    current_app.config["UPLOAD_FOLDER"],
                    cost,
                    upload.filename,
                    upload.stream,
                    current_app.config["MAX_UPLOAD_BYTES"],
                    current_user.id,
                )
                db_session().commit()
            except DomainError as error:
                db_session().rollback()
                show_domain_error(form, error)
            else:
                flash(f"{upload.filename} has been attached.", "success")
                return redirect(url_for("incidents.line", incident_id=incident.id, line_id=cost.id))
    return render_template(
        "incidents/line.html",
        incident=incident,
        line=cost,
        form=form,
        kind=CostKind(cost.kind),
        max_upload=size_text(current_app.config["MAX_UPLOAD_BYTES"]),
    )


@bp.route("/incidents/<int:incident_id>/costs/<int:line_id>/delete", methods=["GET", "POST"])
@practice_staff
def delete_line(incident_id: int, line_id: int) -> str | Response:
    incident = _incident_or_404(incident_id)
    cost = _line_or_404(incident, line_id)
    try:
        cost_lines.ensure_editable(cost, "deleted")
    except Conflict as error:
        flash(error.message, "error")
        return redirect(url_for("incidents.line", incident_id=incident.id, line_id=cost.id))
    if request.method == "POST":
        description = cost.description
        try:
            stored = cost_lines.delete_line(db_session(), cost, current_user.id)
        except Conflict as error:  # issued a moment ago, after this page was loaded
            db_session().rollback()
            flash(error.message, "error")
            return redirect(url_for("incidents.line", incident_id=incident.id, line_id=cost.id))
        db_session().commit()
        evidence.unlink_all(current_app.config["UPLOAD_FOLDER"], stored)
        flash(f"{description} has been deleted.", "success")
        return redirect(url_for("incidents.detail", incident_id=incident.id) + "#costs")
    return render_template("incidents/delete_line.html", incident=incident, line=cost)


# --- paper forms for the outage -------------------------------------------------------


def _paper_forms(key: str) -> list[paper_forms.PaperForm]:
    """The forms a download asks for: one by its key, or "all" of them; else 404."""
    if key == "all":
        return list(paper_forms.FORMS)
    form = paper_forms.FORMS_BY_KEY.get(key)
    if form is None:
        abort(404)
    return [form]


def _send_paper_forms(
    forms: list[paper_forms.PaperForm], header: paper_forms.Header, name: str
) -> Response:
    return send_download(
        paper_forms.build_paper_forms(forms, header),
        mimetype="application/pdf",
        filename=f"{forms[0].key if len(forms) == 1 else 'paper-forms'}-{name}.pdf",
    )


@bp.route("/be-ready")
@practice_staff
def be_ready() -> str:
    """What to print and keep before an outage: the paper forms, and a checklist."""
    practice = current_practice_or_404()
    return render_template("incidents/be_ready.html", practice=practice, forms=paper_forms.FORMS)


@bp.route("/be-ready/forms/<key>.pdf")
@practice_staff
def blank_paper_forms(key: str) -> Response:
    """A paper form (or all of them) with the practice's name and ODS code."""
    practice = current_practice_or_404()
    header = paper_forms.Header(practice.name, practice.ods_code)
    return _send_paper_forms(_paper_forms(key), header, practice.ods_code)


@bp.route("/incidents/<int:incident_id>/paper-forms/<key>.pdf")
@practice_staff
def incident_paper_forms(incident_id: int, key: str) -> Response:
    """A paper form (or all of them) with the incident's title and dates printed too."""
    incident = _incident_or_404(incident_id)
    header = paper_forms.Header(
        incident.practice.name,
        incident.practice.ods_code,
        incident_title=incident.title,
        incident_dates=period_text(incident.starts_at, incident.ends_at),
    )
    return _send_paper_forms(_paper_forms(key), header, f"incident-{incident.id}")


# --- evidence --------------------------------------------------------------------------


@bp.route("/evidence/<int:evidence_id>")
def download_evidence(evidence_id: int) -> Response:
    item = evidence_or_404(evidence_id)
    return send_evidence(item)


@bp.route("/evidence/<int:evidence_id>/delete", methods=["POST"])
@practice_staff
def delete_evidence(evidence_id: int) -> Response:
    item = get_for_practice_or_404(Evidence, evidence_id)
    line = item.cost_line
    target = (
        url_for("incidents.line", incident_id=line.incident_id, line_id=line.id)
        if line is not None
        else url_for("incidents.index")
    )
    try:
        stored = evidence.remove(db_session(), item, current_user.id)
        db_session().commit()
    except DomainError as error:
        db_session().rollback()
        flash(error.message, "error")
        return redirect(target)
    evidence.unlink_all(current_app.config["UPLOAD_FOLDER"], [stored])
    flash(f"{item.original_filename} has been removed.", "success")
    return redirect(target)


# --- outage events ---------------------------------------------------------------------


@bp.route("/outage-events/<int:event_id>")
def event(event_id: int) -> str | Response:
    """An outage event, and the claim policy that applies to the user: their practice's ICB's
    (as a practice manager or finance), or their own ICB's (as a reviewer, who changes it).
    A proposal shows where it stands; a merged one leads to the event it was merged into."""
    found = event_or_404(event_id)
    if found.status == EventStatus.MERGED and found.merged_into is not None:
        flash(
            f"“{found.name}” was merged into “{found.merged_into.name}” by the ICB: its "
            "incidents and claims are now under this event.",
            "info",
        )
        return redirect(url_for("incidents.event", event_id=found.merged_into_id))
    practice = current_practice()
    reviewer_icb = current_user.icb if current_user.has_role(Role.ICB_REVIEWER) else None
    icb = practice.icb if practice is not None else reviewer_icb
    confirmed = found.status == EventStatus.CONFIRMED
    return render_template(
        "incidents/event.html",
        event=found,
        icb=icb,
        policy=claim_policy.practice_view(db_session(), found, icb) if icb and confirmed else None,
        reviewer_icb=reviewer_icb if confirmed else None,
        may_edit=found.id in editable_event_ids([found.id]),
        may_decide=may_decide_event(found),
        own_proposal=practice is not None and found.proposed_by_practice_id == practice.id,
        decide_form=DecideEventForm(),
    )


@bp.route("/outage-events")
def events() -> str:
    viewer = event_viewer()
    rows = event_service.listed(db_session(), viewer)
    practice = current_practice()
    deciding = deciding_icb_ids()
    return render_template(
        "incidents/events.html",
        events=rows,
        may_add=may_add_events(),
        may_propose=may_propose_events(),
        editable=editable_event_ids([event.id for event in rows]),
        own=event_service.own_proposals(db_session(), practice.id) if practice else [],
        waiting=event_service.waiting_for(db_session(), deciding) if deciding else [],
    )


def _save_event(event: OutageEvent | None) -> str | Response:
    form = EventForm(obj=event)
    if form.validate_on_submit():
        try:
            incidents.save_event(
                db_session(),
                event,
                current_user.id,
                incidents.EventDetails(
                    name=form.name.data or "",
                    started_on=form.started_on.data,
                    description=form.description.data or "",
                ),
                today_in_london(),
            )
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        else:
            flash("The outage event has been saved.", "success")
            return redirect(url_for("incidents.events"))
    return render_template("incidents/event_form.html", form=form, event=event)


@bp.route("/outage-events/new", methods=["GET", "POST"])
def new_event() -> str | Response:
    if not may_add_events():
        abort(403)
    return _save_event(None)


@bp.route("/outage-events/<int:event_id>/edit", methods=["GET", "POST"])
def edit_event(event_id: int) -> str | Response:
    """Administrators edit any event; an ICB reviewer only their own ICB's (access)."""
    event = event_or_404(event_id)
    if event.id not in editable_event_ids([event.id]):
        abort(403)
    return _save_event(event)


def _back_to(back: str, event_id: int) -> str:
    """The form the proposal was started from, with the new event chosen: the new incident
    form, an incident's edit form (one of the user's practices'), or the event's page."""
    if back == "new":
        return url_for("incidents.new", event=event_id)
    incident_id = parse_id(back)
    if incident_id is not None:
        return url_for("incidents.edit", incident_id=incident_id, event=event_id)
    return url_for("incidents.event", event_id=event_id)


@bp.route("/outage-events/propose", methods=["GET", "POST"])
@practice_staff
def propose_event() -> str | Response:
    """A practice proposes an outage event its ICB has not added; usable at once for the
    practice's own incidents, seen by its ICB's reviewers, who confirm or merge it."""
    practice = current_practice_or_404()
    form = ProposeEventForm()
    if request.method == "GET":
        form.back.data = request.args.get("back", "")[:20]
    clash: OutageEvent | None = None
    if form.validate_on_submit():
        proposal = event_service.Proposal(
            name=form.name.data or "",
            started_on=form.started_on.data,
            description=form.description.data or "",
            systems=form.systems.data or [],
        )
        viewer = event_viewer()
        problems = event_service.proposal_problems(
            db_session(), proposal, viewer, today_in_london()
        )
        if problems:
            show_domain_errors(form, problems)
            clash = _visible_clash(problems)
        else:
            try:
                proposed = event_service.propose(
                    db_session(), practice.id, current_user.id, proposal, viewer, today_in_london()
                )
                db_session().commit()
            except Invalid as error:
                db_session().rollback()
                show_domain_error(form, error)
                clash = _visible_clash([error])
            else:
                flash(
                    f"“{proposed.name}” is proposed: use it for your incidents now. "
                    f"{practice.icb.name} will confirm it, or merge it into an event it "
                    "already has.",
                    "success",
                )
                return redirect(_back_to(form.back.data or "", proposed.id))
    return render_template(
        "incidents/propose_event.html", form=form, practice=practice, clash=clash
    )


def _visible_clash(problems: list[Invalid]) -> OutageEvent | None:
    """The existing event a refused name belongs to, when the user may see it."""
    for problem in problems:
        if isinstance(problem, event_service.NameTaken):
            return event_service.visible_event(db_session(), problem.event_id, event_viewer())
    return None


def _decidable_or_404(event_id: int) -> OutageEvent:
    """A proposal the user may decide. One they may see but not decide answers 403 (an
    approver, the proposing practice); one they may not see answers 404 (event_or_404)."""
    found = event_or_404(event_id)
    if found.status != EventStatus.PROPOSED:
        return found  # already decided: the service says by whom, on the event's page
    if not may_decide_event(found):
        abort(403)
    return found


def _already_decided(found: OutageEvent) -> Response | None:
    if found.status == EventStatus.PROPOSED:
        return None
    if current_user.is_admin or deciding_icb_ids():
        flash(event_service.refusal_text(found), "error")
        return redirect(url_for("incidents.event", event_id=found.id))
    abort(403)


@bp.route("/outage-events/<int:event_id>/confirm", methods=["POST"])
def confirm_event(event_id: int) -> Response:
    found = _decidable_or_404(event_id)
    if (answer := _already_decided(found)) is not None:
        return answer
    if not DecideEventForm().validate_on_submit():
        abort(400)
    try:
        event_service.confirm(db_session(), found, current_user.id, utcnow())
        db_session().commit()
    except Conflict as error:
        db_session().rollback()
        flash(error.message, "error")
        return redirect(url_for("incidents.event", event_id=event_id))
    flash(f"“{found.name}” is confirmed: every practice can now use it.", "success")
    return redirect(url_for("incidents.event", event_id=found.id))


@bp.route("/outage-events/<int:event_id>/merge", methods=["GET", "POST"])
def merge_event(event_id: int) -> Response | tuple[str, int]:
    """Merge a proposal into a confirmed event: its incidents and claims move there."""
    found = _decidable_or_404(event_id)
    if (answer := _already_decided(found)) is not None:
        return answer
    form = MergeEventForm()
    targets = event_service.merge_targets(db_session(), found)
    form.target_id.choices = [(0, "Select an outage event")] + [(t.id, t.name) for t in targets]
    if form.validate_on_submit():
        try:
            merged = event_service.merge(
                db_session(), found, form.target_id.data or None, current_user.id, utcnow()
            )
            db_session().commit()
        except Invalid as error:
            db_session().rollback()
            show_domain_error(form, error)
        except Conflict as error:
            db_session().rollback()
            flash(error.message, "error")
            return redirect(url_for("incidents.event", event_id=event_id))
        else:
            flash(
                f"“{found.name}” is merged into “{merged.target_name}”: {merged.moved}.", "success"
            )
            return redirect(url_for("incidents.event", event_id=found.merged_into_id))
    page = render_template("incidents/merge_event.html", form=form, event=found, targets=targets)
    return page, 422 if form.errors else 200
