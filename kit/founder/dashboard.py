"""The founder's dashboard under /admin, behind the password (the token API is kit/founder/api.py).

Views only read the request, ask kit/reports (results, sources, costs) and kit/founder
(spend, signup_list) for numbers and render them; all maths lives in kit/reports/stats.py and
the SQL in those modules, so the page, the API and ``flask kit stats`` agree.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for

from kit import language
from kit import money
from kit.delivery import notify
from kit.delivery.outbox import failed_deliveries
from kit.extensions import registry
from kit.founder import share
from kit.founder import signup_list
from kit.founder import spend
from kit.founder.auth import admin_password
from kit.founder.auth import is_admin
from kit.founder.auth import log_in
from kit.founder.auth import log_out
from kit.founder.auth import mark_not_counted
from kit.founder.auth import marked_not_counted
from kit.founder.auth import password_matches
from kit.founder.forms import LoginForm
from kit.founder.forms import SpendForm
from kit.founder.selection import experiment_asked
from kit.founder.selection import min_visitors
from kit.founder.selection import page_or_404
from kit.models import AdSpend
from kit.models import Signup
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.reports import costs
from kit.reports import formatting
from kit.reports import ideas
from kit.reports import preorders
from kit.reports import results
from kit.reports.charts import BAR_HEIGHT
from kit.reports.charts import BAR_WIDTH
from kit.reports.charts import SPARK_HEIGHT
from kit.reports.charts import SPARK_WIDTH
from kit.reports.charts import forest_of
from kit.reports.charts import funnel_of_steps
from kit.reports.charts import interval_bars
from kit.reports.charts import line_chart
from kit.reports.charts import sparkline
from kit.reports.daily import DailyRow
from kit.reports.decision import running_since
from kit.reports.export import csv_lines
from kit.reports.sources import SOURCE_DIMENSIONS
from kit.reports.sources import by_dimension
from kit.reports.sources import traffic_sources
from kit.reports.stats import arm_label
from kit.tracking.assignment import EMBED
from kit.tracking.phases import counted_under
from kit.urls import embed_snippet
from kit.waitlist.referrals import leaderboard
from kit.waitlist.referrals import referral_share
from kit.waitlist.signup import remove_signup

bp = Blueprint("admin", __name__, url_prefix="/admin")
SIGNUPS_PER_PAGE = 50


@bp.before_request
def require_login() -> Any:
    if admin_password() is None:
        return render_template("founder/locked.html"), 403
    if request.endpoint in ("admin.login", "admin.logout") or is_admin():
        return None
    return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))


@bp.after_request
def private(response: Response) -> Response:
    """Admin pages are never indexed (nor cached: kit/security.py's PRIVATE_BLUEPRINTS)."""
    response.headers["X-Robots-Tag"] = "noindex"
    return response


SAFE_NEXT = re.compile(r"/admin(/[A-Za-z0-9._~/-]*)?(\?[A-Za-z0-9._~%&=+-]*)?")


def _safe_next(target: str | None) -> str:
    """Only a plain path inside the dashboard: the login form is no open redirect, and nothing
    that could break the Location header (control characters, spaces) gets into it."""
    if target and SAFE_NEXT.fullmatch(target) and "//" not in target:
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        configured = admin_password()
        if password_matches(form.password.data, configured):
            response = redirect(_safe_next(request.args.get("next")))
            log_in(response)
            return response
        form.password.errors.append("That is not the admin password.")
        return render_template("founder/login.html", form=form), 403
    status = 400 if form.errors else 200
    return render_template("founder/login.html", form=form, debug=current_app.debug), status


@bp.post("/logout")
def logout() -> Response:
    flash("You are logged out.")
    response = redirect(url_for("admin.login"))
    log_out(response)
    return response


@bp.get("/")
def index() -> str:
    minimum = min_visitors()
    lines = [
        {
            **row,
            "spark": sparkline(row["trend"].per_day),
            "week_change": row["trend"].last_week - row["trend"].week_before,
        }
        for row in ideas.overview(registry().pages, minimum)
    ]
    return render_template(
        "founder/index.html",
        lines=lines,
        spark=(SPARK_WIDTH, SPARK_HEIGHT),
        failed=failed_deliveries(),
        not_counted=marked_not_counted(),
        unbooked=preorders.unbooked_payments(),
        shared=[(link, share.url_of(link)) for link in share.live(every=True)],
    )


@bp.get("/compare")
def compare() -> str:
    """Which idea has demand: every page ranked by conversion, the top two compared."""
    sources = traffic_sources()
    source = request.args.get("source") or None
    if source is not None and source not in sources:
        source = None  # a source nobody came from: compare on all traffic, and say so
    ranked, verb = ideas.ideas(registry().pages, source, min_visitors())
    signed_up = interval_bars([_bounds(i.interval, i.rate) for i in ranked])
    paid = interval_bars([_bounds(i.paid_interval, i.paid_rate) for i in ranked])
    return render_template(
        "founder/compare.html",
        ranked=list(zip(ranked, signed_up, paid, strict=True)),
        verb=verb,
        payments=any(i.paid or i.page.checkouts for i in ranked),
        sentence=ideas.top_two_sentence(ranked, verb),
        shared=[(link, share.url_of(link)) for link in share.live(None)],
        sources=sources,
        source=source,
        asked=request.args.get("source") or None,
        bar_size=(BAR_WIDTH, BAR_HEIGHT),
    )


def _bounds(interval: Any, rate: float | None) -> tuple[float, float, float] | None:
    """An interval as (low, rate, high) for a bar, or None to draw none."""
    if interval is None or rate is None:
        return None
    return (interval.low, rate, interval.high)


@bp.post("/counting")
def counting() -> Response:
    """Mark this browser "don't count me" (kept after logout), or count it again."""
    not_counted = request.form.get("count") != "yes"
    response = redirect(url_for("admin.index"))
    mark_not_counted(response, not_counted)
    flash(
        "This browser's visits to your pages are no longer counted, even when logged out."
        if not_counted
        else "This browser's visits are counted again (except while you are logged in)."
    )
    return response


@bp.post("/share")
def share_report() -> Response:
    """A new read-only link to a page's report (form field ``page``) or to the comparison."""
    slug = request.form.get("page") or None
    if slug is not None:
        page_or_404(slug)
    link = share.create(slug)
    url = share.url_of(link)
    db.session.commit()
    flash(f"Anyone with this link can read the report, until you revoke it: {url}")
    back = url_for("admin.page_view", slug=slug) if slug else url_for("admin.compare")
    return redirect(back + "#share")


@bp.post("/share/<public_id>/revoke")
def revoke_report(public_id: str) -> Response:
    """Revoke a link: it answers 404 from now on."""
    gone = share.revoke(public_id)
    db.session.commit()
    flash("The link is revoked: it shows nothing any more." if gone else "No such link.")
    back = request.form.get("back", "")
    return redirect(
        back if SAFE_NEXT.fullmatch(back) and "//" not in back else url_for("admin.index")
    )


@bp.get("/<slug>")
def page_view(slug: str) -> str:
    page = page_or_404(slug)
    experiment = experiment_asked(page)
    outcome = results.page_results(page, experiment, min_visitors())
    arms = [arm.name for arm in outcome.report.arms]
    days = outcome.days
    referred, all_signups = referral_share(page)
    started, days_running = running_since((row.day for row in days), utcnow().date())
    return render_template(
        "founder/page.html",
        outcome=outcome,
        started=started,
        days_running=days_running,
        funnel=funnel_of_steps(outcome.funnel),
        forests={
            "signups": forest_of(
                outcome.report,
                "Visitors who signed up, with 95% intervals",
                outcome.bar_for("sign up"),
            ),
            "paid": forest_of(
                outcome.preorders.report,
                "Visitors who paid, with 95% intervals",
                outcome.bar_for("pay"),
            ),
            "goals": [
                forest_of(goal.report, f"Visitors who clicked “{goal.label}”")
                for goal in outcome.goals
            ],
        },  # fmt: skip
        show_preorders=bool(page.checkouts or outcome.preorders.preorders),
        unbooked=preorders.unbooked_payments(slug),
        bar_size=(BAR_WIDTH, BAR_HEIGHT),
        changes=_changes(page, outcome),
        experiments=results.experiments_of(page),
        days=days,
        charts=_charts(days, arms) if len({row.day for row in days}) >= 2 else [],
        leaders=leaderboard(slug),
        referred=referred,
        all_signups=all_signups,
        viral=referred / all_signups if all_signups else None,
        raw_signups=all_signups,
        embed_snippet=embed_snippet(page) if page.embed.origins else "",
        shared=[(link, share.url_of(link)) for link in share.live(slug)],
        embed_experiment=EMBED,
    )


def _changes(page: Page, outcome: results.PageResults) -> dict[str, list[tuple[str, str]]]:
    """What each variant of the current experiment overrides, with the text visitors see."""
    if page.experiment is None or not outcome.current:
        return {}
    return {variant.name: variant.changed() for variant in page.experiment.variants}


def _charts(days: list[DailyRow], arms: list[str]) -> list:
    labels = sorted({row.day.isoformat() for row in days})
    per_arm: dict[str, dict[str, list]] = {
        name: {"visitors": [], "signups": [], "rate": []} for name in arms
    }
    for row in days:
        series = per_arm[row.variant]
        series["visitors"].append(row.visitors)
        series["signups"].append(row.signups)
        series["rate"].append(row.cumulative_rate)
    names = {name: arm_label(name) for name in arms}
    charts = [
        ("Exposed visitors per day", "visitors", language.number, True),
        ("Visitors who signed up, per day", "signups", language.number, True),
        ("Cumulative conversion rate", "rate", formatting.percent, False),
    ]
    return [
        line_chart(title, labels, {names[n]: s[key] for n, s in per_arm.items()}, label, whole)
        for title, key, label, whole in charts
    ]


MAIL_PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:"


@bp.get("/<slug>/mail/<name>")
def mail_preview(slug: str, name: str) -> Response:
    """A mail of the page as a person gets it, with sample data (its inlined styles allowed)."""
    page = page_or_404(slug)
    if name not in notify.PREVIEWS:
        abort(404, f"There is no mail called {name!r}; mails: {', '.join(notify.PREVIEWS)}.")
    message = notify.preview(page, name)
    response = Response(message["html"], mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_PREVIEW_POLICY  # no script, no form
    return response


@bp.get("/<slug>/sources")
def sources(slug: str, form: SpendForm | None = None, status: int = 200) -> tuple[str, int]:
    page = page_or_404(slug)
    experiment = experiment_asked(page, default=counted_under(page))  # where the ads go now
    tables = {
        label: by_dimension(page, experiment, column) for column, label in SOURCE_DIMENSIONS.items()
    }
    minimum = min_visitors()
    html = render_template(
        "founder/sources.html", page=page, experiment=experiment, tables=tables,
        costs=costs.costs(slug, minimum), form=form or SpendForm(formdata=None), minimum=minimum,
    )  # fmt: skip
    return html, status


@bp.post("/<slug>/spend")
def add_spend(slug: str) -> Any:
    """Record ad spend; a value that can't be stored gives the form back with what was typed."""
    page_or_404(slug)
    form = SpendForm()
    if not form.validate():
        return sources(slug, form, 400)
    try:
        entry = spend.check(
            form.source.data, form.campaign.data or "", form.first_day.data, form.last_day.data,
            form.amount.data, form.currency.data,
        )  # fmt: skip
        spend.add(slug, entry)
    except spend.SpendError as error:
        field, _, message = str(error).partition(": ")
        target = {"from": "first_day", "to": "last_day"}.get(field, field)
        getattr(form, target, form.amount).errors = [message]
        return sources(slug, form, 400)
    db.session.commit()
    flash(f"Recorded {money.text(entry.amount, entry.currency)} for {entry.utm_source}.")
    return redirect(url_for("admin.sources", slug=slug) + "#spend")


@bp.post("/<slug>/spend/<int(max=2147483647):spend_id>/delete")  # an id the database holds
def delete_spend(slug: str, spend_id: int) -> Response:
    page_or_404(slug)
    entry = db.session.get(AdSpend, spend_id)
    if entry is None or entry.page != slug:
        abort(404, "That spend entry does not exist (or was deleted already).")
    db.session.delete(entry)
    db.session.commit()
    flash("Spend entry deleted.")
    return redirect(url_for("admin.sources", slug=slug) + "#spend")


@bp.get("/<slug>/signups")
def signups(slug: str) -> str:
    page = page_or_404(slug)
    search = request.args.get("q", "")[:200]
    number = request.args.get("page", 1, type=int)
    shown = request.args.get("confirmed", "")
    confirmed = signup_list.CONFIRMED_FILTER.get(shown)
    listing = signup_list.signup_listing(slug, search, number, SIGNUPS_PER_PAGE, confirmed)
    return render_template(
        "founder/signups.html",
        page=page,
        listing=listing,
        search=search,
        shown=shown if confirmed is not None else "",
    )


@bp.post("/<slug>/signups/<int(max=2147483647):signup_id>/delete")
def delete_signup(slug: str, signup_id: int) -> Response:
    """The admin's "remove this person": the same wipe as the person's own "remove me"."""
    page = page_or_404(slug)
    entry = db.session.get(Signup, signup_id)
    if entry is None or entry.page != slug or entry.deleted_at is not None:
        abort(404, "That signup does not exist (or was removed already).")
    remove_signup(page, entry)
    db.session.commit()
    flash("The signup's personal data is deleted; its anonymous count stays in the statistics.")
    return redirect(url_for("admin.signups", slug=slug))


def _csv(filename: str, header: list[str], rows: Any) -> Response:
    return Response(
        stream_with_context(csv_lines(header, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<slug>/signups.csv")
def signups_csv(slug: str) -> Response:
    page_or_404(slug)
    shown = request.args.get("confirmed", "")
    confirmed = signup_list.CONFIRMED_FILTER.get(shown)
    name = f"{slug}-signups{'-confirmed-' + shown if confirmed is not None else ''}.csv"
    return _csv(name, signup_list.SIGNUP_COLUMNS, signup_list.signup_rows(slug, confirmed))


@bp.get("/<slug>/results.csv")
def results_csv(slug: str) -> Response:
    page = page_or_404(slug)
    experiment = experiment_asked(page)
    outcome = results.page_results(page, experiment, min_visitors())
    header, rows = formatting.variant_rows(outcome.report, outcome.preorders)
    return _csv(f"{slug}-{experiment or 'page'}-results.csv", header, rows)
