"""The Flask extensions, created unbound and bound by ``create_app``, and the app's pages."""

from __future__ import annotations

from flask import Flask
from flask import current_app
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from kit.pages.registry import PageRegistry

migrate = Migrate()
csrf = CSRFProtect()


def registry(app: Flask | None = None) -> PageRegistry:
    """The page files of ``app`` or the running app (kit/pages/registry.py): the one way
    views, commands, workers and the doctor reach them."""
    return (app or current_app).extensions["pages"]
