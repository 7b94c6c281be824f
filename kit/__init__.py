"""Application factory: ``create_app()`` builds the kit for gunicorn, ``flask`` and tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask import current_app
from flask import request
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadHost
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from kit import cli
from kit import fastpath
from kit import language
from kit import security
from kit import urls
from kit.config import DEFAULTS
from kit.config import ConfigError
from kit.config import from_env
from kit.config import production_problems
from kit.delivery import notify
from kit.delivery import outbox
from kit.errors import error_page
from kit.extensions import csrf
from kit.extensions import migrate
from kit.founder import api
from kit.founder import dashboard
from kit.founder import proof
from kit.models import db
from kit.pages.registry import PageRegistry
from kit.reports import digest
from kit.reports import formatting
from kit.tracking import exposures
from kit.visitor import checkout
from kit.visitor import embed
from kit.visitor import landing
from kit.visitor import subscriber

PROJECT_DIR = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then environment, then instance config.py, then ``test_config``."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder=None,  # served by urls.bp with fingerprinted names
    )
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(from_env(os.environ))
    app.config.from_pyfile("config.py", silent=True)
    if test_config is not None:
        app.config.from_mapping(test_config)
    _finish_config(app)
    register_extensions(app)
    register_pages(app)
    register_blueprints(app)
    register_errors(app)
    register_workers(app)
    # Last, so every blueprint's views exist when their rate limits are attached.
    security.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    """The database, migrations, CSRF, the visitor's session cookie and the proxy in front."""
    db.init_app(app)
    fastpath.init_database(app, db, _end_database_session)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    fastpath.trim_csrf(app)
    app.session_interface = fastpath.VisitorSessionInterface(security.drop_malformed_values)
    formatting.init_app(app)
    language.init_app(app)
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        # X-Forwarded-Host only when asked for: absolute links come from BASE_URL anyway.
        forwarded_host = hops if app.config["TRUST_FORWARDED_HOST"] else 0
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=forwarded_host)


def register_pages(app: Flask) -> None:
    """Load the page files; in production a broken one is logged and answers 503 alone."""
    registry = PageRegistry(
        Path(app.config["PAGES_DIR"]), urls.STATIC_DIR, auto_reload=app.debug or app.testing
    )
    if registry.errors and _serving_production(app):
        # One broken file must not take the site down: its page answers 503, the others serve.
        details = "\n  ".join(str(e) for e in registry.errors)
        app.logger.error(
            "page files have errors; their pages answer 503 until fixed:\n  %s", details
        )
    app.extensions["pages"] = registry


def register_blueprints(app: Flask) -> None:
    """The visitor's pages, the subscriber's links, the founder's dashboard and API, commands."""
    app.register_blueprint(urls.bp)
    app.register_blueprint(landing.bp)
    app.register_blueprint(subscriber.bp)
    csrf.exempt(subscriber.unsubscribe)  # RFC 8058: the mailbox provider sends no token
    app.register_blueprint(embed.bp)
    csrf.exempt(embed.signup)  # no cookie inside another site's frame: checked by Origin
    app.register_blueprint(checkout.bp)
    csrf.exempt(checkout.webhook)  # Stripe signs its calls: checked by Stripe-Signature
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(proof.bp)
    app.add_url_rule("/healthz", "healthz", healthz)
    cli.init_app(app)


def register_errors(app: Flask) -> None:
    """Every error answers with a page in plain words (kit/errors.py), never a stack trace."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, landing.csrf_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _server_error)


def register_workers(app: Flask) -> None:
    """The two background threads of each process: the outbox sender and the exposure writer."""
    outbox.init_app(
        app, periodic=(digest.send_due,), prepared_mail=notify.PREPARED_MAIL, jobs=notify.JOBS
    )
    exposures.init_app(app)


def _serving_production(app: Flask) -> bool:
    """True under gunicorn without debug; ``flask`` commands and tests may run with problems."""
    cli = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
    return not (app.debug or app.testing or cli)


def _finish_config(app: Flask) -> None:
    """Fill path defaults and refuse an unsafe production configuration."""
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        # The folder is made when the database is first opened (models._sqlite_folder).
        path = Path(app.instance_path) / "waitlist.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config["PAGES_DIR"]:
        app.config["PAGES_DIR"] = str(PROJECT_DIR / "pages")
    if app.config["PREFERRED_URL_SCHEME"] == "https":
        app.config["SESSION_COOKIE_SECURE"] = True
    if _serving_production(app):
        problems = production_problems(app.config)
        if problems:
            raise ConfigError("refusing to start in production:\n  " + "\n  ".join(problems))


def _end_database_session(error: BaseException | None) -> None:
    """Flask-SQLAlchemy's teardown, except that a connection which died since the view used it
    (a database restart) is dropped instead of turning a finished answer into a 500."""
    try:
        db.session.remove()
    except SQLAlchemyError:
        current_app.logger.warning("dropping a database connection that died during a request")
        db.session().invalidate()
        db.session.registry.clear()


def healthz() -> tuple[dict[str, str], int]:
    """Answer 200 when the database is reachable, so the PaaS can route traffic here."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        db.session.rollback()
        return {"status": "database unreachable"}, 503
    return {"status": "ok"}, 200


def _http_error(error: HTTPException) -> Any:
    if isinstance(error, SecurityError | BadHost):
        # A Host outside TRUSTED_HOSTS, or one no URL can hold (a label over 63 characters,
        # an empty one): no link can be built for it, so no page either.
        return "This site does not answer to that host name.", 400, {"Content-Type": "text/plain"}
    if request.path.startswith("/api/"):
        return {"error": error.description}, error.code
    # Werkzeug's own descriptions talk to developers; the kit's (abort(404, "...")) to people.
    own = error.description != type(error).description
    return error_page(error.code or 500, error.description if own else None)


def _database_error(error: DBAPIError) -> Any:
    """A lost or refused connection is a 503 to retry; any other database error a 500."""
    if isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated:
        return _database_unavailable(error)
    return _server_error(error)


def _database_unavailable(error: DBAPIError) -> Any:
    """The database is restarting or unreachable: say so with a 503 the visitor can retry."""
    db.session.rollback()
    current_app.logger.warning(
        "database unavailable on %s %s: %s", request.method, request.path, error
    )
    message = language.text("error.database")
    headers = {"Retry-After": "5"}
    if request.path.startswith("/api/"):
        return {"error": "database unavailable, retry shortly"}, 503, headers
    return (*error_page(503, message), headers)


def _server_error(error: Exception) -> Any:
    """Roll back, log, and show a friendly page; never a stack trace to a visitor."""
    db.session.rollback()
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    if request.path.startswith("/api/"):
        return {"error": "internal error"}, 500
    return error_page(500)
