"""The baseline for bench/landing.py: the smallest Flask app, served by the same gunicorn."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Answer with a fixed greeting and touch nothing else."""
    return "Hello, World!"
