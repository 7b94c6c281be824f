"""The Flask extensions, created unbound and bound by ``create_app``, and the app's pages."""

from __future__ import annotations

from flask import current_app
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from kit.pages.registry import PageRegistry

migrate = Migrate()
csrf = CSRFProtect()


def registry() -> PageRegistry:
    """The running app's page files (kit/pages/registry.py): the one way views, commands and
    workers reach them."""
    return current_app.extensions["pages"]
