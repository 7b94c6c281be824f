"""Entry point for ``gunicorn app:app`` and ``flask --app app``."""

from kit import create_app

app = create_app()
