"""``flask kit ...`` commands: check, start and document page files, release, doctor, stats,
export, recount, deliver, digest and ad spend."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import func
from sqlalchemy import select

from kit import money
from kit import recount
from kit import urls
from kit.catalogs import start
from kit.catalogs import untranslated
from kit.catalogs import update_and_compile
from kit.delivery import mail
from kit.delivery.outbox import deliver_due
from kit.doctor import diagnose
from kit.extensions import registry
from kit.founder import signup_list
from kit.founder import spend
from kit.language import catalog_for
from kit.language import catalog_languages
from kit.language import in_language
from kit.language import translated
from kit.models import Outbox
from kit.models import db
from kit.pages.fields import SLUG_RE
from kit.pages.illustration import illustration_name
from kit.pages.illustration import write_illustration
from kit.pages.reference import schema_reference
from kit.pages.reference import text_reference
from kit.pages.schema import Page
from kit.pages.share_card import CardError
from kit.pages.share_card import write_card
from kit.pages.starter import STARTERS
from kit.pages.starter import starter_page
from kit.pages.validation import RESERVED_SLUGS
from kit.pages.validation import load_page_file
from kit.pages.validation import load_pages
from kit.reports import costs
from kit.reports import digest
from kit.reports import formatting
from kit.reports import ideas
from kit.reports import results
from kit.reports.export import csv_lines
from kit.reports.stats import counted
from kit.tracking.phases import current_phase

PAGE_REFERENCE = ("<!-- page-reference:start -->", "<!-- page-reference:end -->")
TEXT_REFERENCE = ("<!-- text-reference:start -->", "<!-- text-reference:end -->")


@click.group("kit", cls=AppGroup)
def kit() -> None:
    """Manage landing pages and read results."""


@kit.command("check")
def check_command() -> None:
    """Validate every page file and list all problems, each with its file and key path."""
    _check_pages()


def _check_pages() -> None:
    """List every page file's problems and fail (exit 1) when there is one."""
    loaded = registry()
    pages, errors = load_pages(loaded.pages_dir, loaded.static_dir)
    for slug in sorted(pages):
        click.echo(f"ok     {slug}.toml")
        _note_language(slug, pages[slug].content.language)
    if errors:
        for error in errors:
            click.echo(f"error  {error}", err=True)
        raise click.ClickException(f"{len(errors)} problem(s) in page files")
    click.echo(f"{len(pages)} page(s), no problems")


def _note_language(slug: str, tag: str) -> None:
    """Say when a page's visitors would read the kit's own sentences in English."""
    catalog = catalog_for(tag)
    missing = untranslated(catalog) if catalog not in (None, "en") else 0
    if catalog is None:
        shipped = ", ".join(catalog_languages())
        click.echo(f"note   {slug}.toml: language: no catalog for {tag!r}, so its visitors read "
                   f"the kit's own sentences in English (shipped: en, {shipped}); write them "
                   "in its [text] table, or start a catalog (see the README)")  # fmt: skip
    elif missing:
        click.echo(f"note   {slug}.toml: language: the {catalog!r} catalog lacks {missing} "
                   "sentence(s): its visitors read those in English")  # fmt: skip


@kit.command("release")
def release_command() -> None:
    """The deploy's release step: check every page file, migrate the database, then build the
    line of each page whose ``referral_bump`` changed. A page file with a problem fails the
    deploy (exit 1, problems listed) before anything changes."""
    _check_pages()
    upgrade()
    recount.lines_due(registry().all())


@kit.command("new")
@click.argument("slug")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--language", type=click.Choice(list(STARTERS), case_sensitive=False), default="en",
    show_default=True,
    help="The visitors' language: the starter's sentences and the kit's own are in it.",
)  # fmt: skip
def new_command(slug: str, force: bool, language: str) -> None:
    """Write pages/SLUG.toml, a commented starter page served at /SLUG."""
    if not SLUG_RE.fullmatch(slug) or slug in RESERVED_SLUGS:
        raise click.ClickException(
            f"{slug!r} can't be a page name: use lower-case letters, digits and dashes "
            f"(and not {', '.join(sorted(RESERVED_SLUGS))})"
        )
    target = registry().pages_dir / f"{slug}.toml"
    if target.exists() and not force:
        raise click.ClickException(f"{target} already exists (use --force to overwrite)")
    starter = starter_page(slug, hero_image=illustration_name(slug), language=language)
    target.write_text(starter, encoding="utf-8")
    page, _ = load_page_file(target)  # its pictures are drawn from it, so they come next
    hero = write_illustration(page.content, urls.STATIC_DIR, slug) if page else None
    try:
        card = f"its share card {_write_card(page)}" if page else "no share card"
    except CardError as error:
        card = f"no share card ({error})"
    click.echo(f"wrote {target}, its hero picture {hero} and {card}")
    site = (current_app.config.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    click.echo(f"open {site}/{slug} to see it")


@kit.command("card")
@click.argument("slug")
def card_command(slug: str) -> None:
    """Draw SLUG's share card (static/SLUG-card.png, 1200 × 630): its link previews show it
    unless the page file names an image (meta.image). Run it again after editing the page."""
    page = registry().pages.get(slug)
    if page is None:
        raise click.ClickException(f"no page called {slug!r} (see `flask --app app kit check`)")
    try:
        path = _write_card(page)
    except CardError as error:
        raise click.ClickException(f"no card drawn for {slug}: {error}") from None
    note = " (the page file's meta.image is shown instead)" if page.content.meta.image else ""
    click.echo(f"wrote {path}{note}")


def _write_card(page: Page) -> Path:
    """The page's share card, its default button text in the page's language."""
    with in_language(page):
        content = replace(page.content, cta=translated(page.content.cta))
    return write_card(content, urls.STATIC_DIR, page.slug)


@kit.command("translations")
@click.option("--new", "language", help='Start a catalog for a new language, e.g. "nl".')
def translations_command(language: str | None) -> None:
    """Bring every catalog (kit/translations) up to the kit's sentences and compile it: run
    after changing kit/texts.py, then translate what it reports missing."""
    if language:
        try:
            click.echo(f"started {start(language)}: translate it, then run this again")
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    for name, missing in update_and_compile():
        click.echo(f"{name:<6} {'complete' if not missing else f'{missing} to translate'}")


@kit.command("reference")
@click.option("--write", type=click.Path(dir_okay=False, path_type=Path), help="Update this file.")
def reference_command(write: Path | None) -> None:
    """Print the page-file reference generated from the schema (and the languages and [text]
    keys), or update both in README.md."""
    blocks = [(PAGE_REFERENCE, schema_reference()),
              (TEXT_REFERENCE, text_reference(catalog_languages()))]  # fmt: skip
    if write is None:
        click.echo("".join(table for _, table in blocks), nl=False)
        return
    text = write.read_text(encoding="utf-8")
    for (start_mark, end_mark), table in blocks:
        start, end = text.find(start_mark), text.find(end_mark)
        if start < 0 or end < start:
            raise click.ClickException(f"{write} has no {start_mark} ... {end_mark} block")
        text = f"{text[: start + len(start_mark)]}\n{table}{text[end:]}"
    write.write_text(text, encoding="utf-8")
    click.echo(f"updated the page reference and the [text] keys in {write}")


@kit.command("doctor")
def doctor_command() -> None:
    """Check this deployment's settings, database and pages; print each problem with its fix."""
    findings = diagnose(current_app)
    for finding in findings:
        if finding.ok:
            click.echo(f"ok       {finding.what}")
        else:
            click.echo(f"PROBLEM  {finding.what}\n         fix: {finding.fix}")
    problems = sum(not finding.ok for finding in findings)
    if problems:
        raise click.ClickException(f"{problems} problem(s) to fix before serving the public")
    click.echo("no problems found")


@kit.command("stats")
@click.argument("slug", required=False)
@click.option("--experiment", help="A past experiment key (default: the one in the page file).")
def stats_command(slug: str | None, experiment: str | None) -> None:
    """Print the per-variant table and verdict of SLUG (or the overview of every page)."""
    loaded = registry()
    pages = {page.slug: page for page in loaded.all()}  # files edited since start: re-read
    for file in sorted({error.file for error in loaded.errors}):
        click.echo(f"skipped {file}: the file has problems (see `flask kit check`)", err=True)
    minimum = current_app.config["MIN_VISITORS_FOR_VERDICT"]
    if slug is None:
        for line in ideas.overview(pages, minimum):
            interval = formatting.interval_text(line["rate_low"], line["rate_high"])
            click.echo(
                f"{line['page']:<24} {line['experiment'] or '-':<20} "
                f"visitors {line['visitors']:>9,}  converted {line['converted']:>7,}  "
                f"signups {line['signups']:>7,}  "
                f"conversion {formatting.percent(line['rate']):>6} ({interval})  "
                f"[{line['decision'].badge}]"
                + (f"  pre-orders {line['preorders']:,} ({money.totals_text(line['revenue'])})"
                   if line["preorders"] else "")
            )  # fmt: skip
        _echo_ideas(pages, minimum)
        return
    page = pages.get(slug)
    if page is None:
        raise click.ClickException(f"no page called {slug!r}; pages: {', '.join(sorted(pages))}")
    key = current_phase(page) if experiment is None else experiment
    outcome = results.page_results(page, key, minimum)
    said = (
        f"experiment {key}, {outcome.status}" if key else "one version of the page, no experiment"
    )
    click.echo(f"{slug}: {said}")
    click.echo(formatting.text_table(outcome.report))
    click.echo(f"[{outcome.decision.badge}] {outcome.card}")
    for bar in outcome.bars:
        click.echo(f"  {bar.metric}: {formatting.percent(bar.rate)} (always-valid "
                   f"{formatting.percent(bar.low)} to {formatting.percent(bar.high)}) against the "
                   f"bar {formatting.percent(bar.bar, 2)}: {bar.kind}")  # fmt: skip
    if outcome.decision.end_line:
        click.echo(f"to end the test, add to pages/{slug}.toml under [experiment]: "
                   f"{outcome.decision.end_line}")  # fmt: skip
    if outcome.unattributed:
        click.echo(f"unattributed signups: {outcome.unattributed:,}")
    click.echo(outcome.report.verdict)
    found = outcome.detectable
    if outcome.current and any(d.lift is not None for d in found):
        lifts = " / ".join(formatting.signed_percent(d.lift) for d in found)
        days = "/".join(str(d.days) for d in found)
        per_day = f"{outcome.visitors_per_day:,.0f} visitors a day"
        click.echo(f"smallest lift a test finds in {days} days: {lifts} "
                   f"(at {per_day}, 80% power, 5% significance)")  # fmt: skip
    for goal in outcome.goals:
        click.echo(f"\ngoal {goal.name} ({goal.label}):")
        click.echo(formatting.text_table(goal.report))
    if outcome.preorders.preorders or page.checkouts:
        click.echo(f"\npaid pre-orders: {outcome.preorders.report.verdict}")
        click.echo("\n".join(formatting.preorder_lines(outcome.preorders)))


def _echo_ideas(pages: dict, minimum: int) -> None:
    """The ideas ranked as on /admin/compare, each by its winner or best variant."""
    ranked, verb = ideas.ideas(pages, None, minimum)
    if len(ranked) < 2:
        return
    click.echo(f"\nideas by visitors who {verb} (each by its winner or best variant):")
    for place, idea in enumerate(ranked, start=1):
        shown = idea.paid_interval if verb == "pay" else idea.interval
        rate = idea.paid_rate if verb == "pay" else idea.rate
        interval = formatting.interval_text(shown.low if shown else None,
                                            shown.high if shown else None)  # fmt: skip
        name = idea.page.slug
        if idea.chosen != "one version":
            name += f" ({idea.variant}, {idea.chosen})"
        click.echo(f"  {place}. {name:<34} {formatting.percent(rate):>6} ({interval}) "
                   f"of {counted(idea.visitors, 'visitor')}")  # fmt: skip
    click.echo(ideas.top_two_sentence(ranked, verb))


@kit.command("export")
@click.argument("slug")
@click.option(
    "--what",
    type=click.Choice(["signups", "results"]),
    default="signups",
    show_default=True,
    help="The signup list, or the per-variant results table.",
)
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
def export_command(slug: str, what: str, output: Any) -> None:
    """Write SLUG's signups (or results) as CSV to --output (default: the terminal)."""
    page = registry().pages.get(slug)
    if page is None:
        raise click.ClickException(f"no page called {slug!r}")
    if what == "signups":
        header = signup_list.SIGNUP_COLUMNS
        rows: Any = signup_list.signup_rows(slug)
    else:
        minimum = current_app.config["MIN_VISITORS_FOR_VERDICT"]
        outcome = results.page_results(page, current_phase(page), minimum)
        header, rows = formatting.variant_rows(outcome.report, outcome.preorders)
    written = -1  # the header is not a row
    for line in csv_lines(header, rows):
        output.write(line)
        written += 1
    where = "the terminal" if output.name == "<stdout>" else output.name
    click.echo(f"wrote {max(written, 0):,} {what} row(s) of {slug} to {where}", err=True)


@kit.command("recount")
def recount_command() -> None:
    """Recount every kept counter from the stored rows (after loading data around the app, or
    when a number looks wrong); the dashboard then reads the recounted figures."""
    for done in recount.everything(registry().all()):
        click.echo(f"recounted {done}")


@kit.command("deliver")
def deliver_command() -> None:
    """Send every due mail, webhook and list update from the outbox once (for cron)."""
    sent = deliver_due()
    waiting = db.session.scalar(
        select(func.count()).select_from(Outbox).where(Outbox.status.in_(("pending", "sending")))
    )
    click.echo(f"delivered {sent}; {waiting} waiting for a retry")


@kit.command("digest")
def digest_command() -> None:
    """Queue the founder digest of the period that just ended unless it went out already
    (for a scheduler; the web processes do it too), then deliver the outbox once."""
    config = current_app.config
    if not config.get("DIGEST_TO") or not mail.configured(config):
        raise click.ClickException("set DIGEST_TO, and MAIL_URL or MAIL_API, to send a digest")
    queued = digest.send_due()
    sent = deliver_due()
    click.echo(f"digest {'queued' if queued else 'already sent for this period'}; delivered {sent}")


@kit.group("spend")
def spend_group() -> None:
    """Record ad spend, to see cost per visitor, signup and pre-order on the sources page."""


@spend_group.command("add")
@click.argument("slug")
@click.option("--source", required=True, help="The ads' utm_source, e.g. google.")
@click.option("--campaign", default="", help="Their utm_campaign (default: the whole source).")
@click.option("--from", "first", required=True, help="First day, e.g. 2026-11-01 (UTC).")
@click.option("--to", "last", required=True, help="Last day, included.")
@click.option("--amount", required=True, help="What it cost, e.g. 120.50.")
@click.option("--currency", default="USD", show_default=True)
def spend_add_command(
    slug: str, source: str, campaign: str, first: str, last: str, amount: str, currency: str
) -> None:
    """Record what the ads with one UTM source (and campaign) cost on SLUG over some days."""
    if slug not in registry().pages:
        raise click.ClickException(f"no page called {slug!r}")
    try:
        entry = spend.check(source, campaign, first, last, amount, currency)
        row = spend.add(slug, entry)
    except spend.SpendError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"recorded #{row.id}: {money.text(entry.amount, entry.currency)} on {slug} for "
        f"{costs.label(entry)}, {entry.first_day} to {entry.last_day}"
    )


@spend_group.command("list")
@click.argument("slug")
def spend_list_command(slug: str) -> None:
    """SLUG's spend entries with their cost per visitor, signup, confirmed signup, pre-order."""
    minimum = current_app.config["MIN_VISITORS_FOR_VERDICT"]
    for row in costs.costs(slug, minimum):
        entry, c, cur = row.spend, row.costs, row.spend.currency
        per_visitor = "–" if c.per_visitor is None else money.text(c.per_visitor, cur)
        click.echo(
            f"#{entry.id} {_visible(costs.label(entry))} {entry.first_day} to {entry.last_day}: "
            f"{money.text(entry.amount, cur)}; {counted(c.visitors, 'visitor')} "
            f"({per_visitor} each), {counted(c.signed_up, 'signup')} "
            f"({costs.cost_text(c.per_signup, cur)}), "
            f"{c.confirmed:,} confirmed ({costs.cost_text(c.per_confirmed, cur)}), "
            f"{c.paying:,} paying ({costs.cost_text(c.per_preorder, cur)})"
        )


def _visible(text: str) -> str:
    """Text for the terminal: a control character (an escape sequence in a row stored before
    they were refused) is shown as its escape, never acted on."""
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def init_app(app: Flask) -> None:
    """Register the ``flask kit`` command group."""
    app.cli.add_command(kit)
