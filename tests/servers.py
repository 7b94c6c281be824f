"""Real local servers for tests: SMTP (aiosmtpd), an HTTP receiver, the app under gunicorn."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email import policy
from email.message import Message
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import requests
from aiosmtpd.controller import Controller

ROOT = Path(__file__).parent.parent


class Inbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.raw: list[bytes] = []  # as they came over the wire

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    """A port nobody listens on (aiosmtpd can't be given port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server() -> Iterator[tuple[str, Inbox]]:
    """A real SMTP server on a free local port; yields its smtp:// URL and its inbox."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def body_text(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


class Receiver:
    """An HTTP server that records every request; it can be taken down and brought back."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[dict] = []
        self.status = status
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body.decode(),
                        "json": json.loads(body) if body else None,
                    }
                )
                self.send_response(receiver.status)
                self.end_headers()

            do_POST = do_DELETE = _record  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def receiver(status: int = 200) -> Iterator[Receiver]:
    server = Receiver(status)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def procfile(process: str, bin_dir: Path | None = None) -> list[str]:
    """The Procfile's command for ``process`` (release, web), run from the virtualenv of
    ``bin_dir`` (the test's own by default)."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    command = next(line.split(":", 1)[1] for line in lines if line.startswith(f"{process}:"))
    words = shlex.split(command)
    return [str((bin_dir or Path(sys.executable).parent) / words[0]), *words[1:]]


def production_env(database_url: str, **env: str) -> dict[str, str]:
    """The environment a PaaS gives the app: its database, a secret, a port; ``env`` on top."""
    environ = {
        **os.environ,
        "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgres://"),
        "SECRET_KEY": "a-long-random-secret-value-0123456789",
        "PORT": str(free_port()),
        **env,
    }
    environ.pop("FLASK_DEBUG", None)
    return environ


def release(
    environ: dict[str, str], project: Path = ROOT, bin_dir: Path | None = None
) -> subprocess.CompletedProcess:
    """Run the Procfile's release step in ``project`` with ``bin_dir``'s virtualenv."""
    command = procfile("release", bin_dir)
    return subprocess.run(command, cwd=project, env=environ, capture_output=True, text=True)


@contextmanager
def gunicorn_process(
    database_url: str, log: Path, project: Path = ROOT, bin_dir: Path | None = None, **env: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """The Procfile's release and web commands in production mode: migrate ``database_url``,
    serve it with gunicorn (``gunicorn.conf.py``) and the extra ``env``; yields the base URL
    and the gunicorn master. Everything gunicorn prints (its access log too) goes to ``log``.
    ``project`` and ``bin_dir``: another checkout and virtualenv (a fresh build)."""
    environ = production_env(database_url, **env)
    done = release(environ, project, bin_dir)
    assert done.returncode == 0, done.stderr
    with log.open("w") as output:
        web = subprocess.Popen(
            procfile("web", bin_dir), cwd=project, env=environ, stdout=output, stderr=output
        )
        try:
            base = f"http://127.0.0.1:{environ['PORT']}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    requests.get(f"{base}/healthz", timeout=2)
                    break
                except requests.ConnectionError:
                    assert web.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "gunicorn did not start in 30 s"
                    time.sleep(0.2)
            yield base, web
        finally:
            web.terminate()
            web.wait(timeout=10)


@contextmanager
def gunicorn(database_url: str, log: Path, **env: str) -> Iterator[str]:
    """``gunicorn_process``, for tests that only need the base URL."""
    with gunicorn_process(database_url, log, **env) as (base, _):
        yield base
