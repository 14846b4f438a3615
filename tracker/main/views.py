"""The dashboard, the practice switcher and the accessibility statement."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    render_template,
    request,
    session,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from tracker.access import SESSION_PRACTICE_KEY, current_practice, icb_ids_for, practice_ids_for
from tracker.extensions import db_session
from tracker.models import Icb
from tracker.redirects import redirect_to_next
from tracker.services.dashboard import (
    icb_summary,
    practice_summary,
    queried_claims,
    review_counts,
)

bp = Blueprint("main", __name__)


@bp.route("/")
def dashboard() -> str:
    practice = current_practice()
    summary = practice_summary(db_session(), practice.id) if practice else None
    queried = queried_claims(db_session(), practice.id) if practice else []
    icb_summaries, counts = [], {}
    if not current_user.is_admin:  # admins see the national report instead
        for icb_id in icb_ids_for(current_user):
            icb = db_session().get(Icb, icb_id)
            if icb is not None:
                icb_summaries.append((icb, icb_summary(db_session(), icb.id)))
                counts[icb.id] = review_counts(db_session(), icb.id)
    return render_template(
        "main/dashboard.html",
        practice=practice,
        summary=summary,
        icb_summaries=icb_summaries,
        queried=queried,
        review_counts=counts,
    )


@bp.route("/switch-practice", methods=["POST"])
def switch_practice() -> Response:
    try:
        practice_id = int(request.form.get("practice_id", ""))
    except ValueError:
        abort(404)
    if practice_id not in practice_ids_for(current_user):
        abort(404)
    session[SESSION_PRACTICE_KEY] = practice_id
    return redirect_to_next(request.form.get("next"))


@bp.route("/accessibility")
def accessibility() -> str:
    return render_template("main/accessibility.html")
