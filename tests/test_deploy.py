"""The one-click deploy manifests (app.json, render.yaml, fly.toml, railway.json) hold to the
kit's own configuration: the same commands as the Procfile, a database, every setting
production needs generated or asked for, the health check; and what they provide serves."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy import make_url
from sqlalchemy import text

from kit import create_app
from kit.config import from_env
from kit.config import normalise_database_url
from kit.config import production_problems
from kit.doctor import diagnose
from kit.models import db
from tests.conftest import POSTGRES_URL
from tests.servers import gunicorn
from tests.servers import production_env

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines())


def app_json() -> dict:
    return json.loads((ROOT / "app.json").read_text())


def render() -> dict:
    return yaml.safe_load((ROOT / "render.yaml").read_text())


def fly() -> dict:
    return tomllib.loads((ROOT / "fly.toml").read_text())


def railway() -> dict:
    return json.loads((ROOT / "railway.json").read_text())


def test_every_manifest_runs_the_procfiles_release_and_web_commands():
    web, release = PROCFILE["web"], PROCFILE["release"]
    service = render()["services"][0]
    assert (service["preDeployCommand"], service["startCommand"]) == (release, web)
    assert (fly()["deploy"]["release_command"], fly()["processes"]["app"]) == (release, web)
    deploy = railway()["deploy"]
    assert (deploy["preDeployCommand"], deploy["startCommand"]) == ([release], web)
    # Heroku runs the Procfile itself; its button only needs the python buildpack.
    assert app_json()["buildpacks"] == [{"url": "heroku/python"}]
    builds = {service["buildCommand"], railway()["build"]["buildCommand"]}
    assert builds == {"pip install -r requirements.txt"}
    assert (ROOT / "requirements.txt").read_text().split() == ["-e", "."]


def test_every_manifest_has_a_database_and_the_health_check():
    assert app_json()["addons"][0]["plan"].startswith("heroku-postgresql:")
    database = render()["databases"][0]["name"]
    variables = {v["key"]: v for v in render()["services"][0]["envVars"]}
    assert variables["DATABASE_URL"]["fromDatabase"] == {
        "name": database, "property": "connectionString"}  # fmt: skip
    assert render()["services"][0]["healthCheckPath"] == "/healthz"
    assert railway()["deploy"]["healthcheckPath"] == "/healthz"
    [check] = fly()["http_service"]["checks"]
    assert check["path"] == "/healthz" and fly()["http_service"]["internal_port"] == int(
        fly()["env"]["PORT"])  # fmt: skip


def test_every_setting_production_needs_is_generated_or_asked_for():
    """SECRET_KEY generated; ADMIN_PASSWORD and BASE_URL asked for at deploy (Fly.io and
    Railway take secrets from their CLI: the README's steps set them)."""
    env = app_json()["env"]
    assert env["SECRET_KEY"]["generator"] == "secret"
    assert env["ADMIN_PASSWORD"]["required"]
    # Heroku names a new app's address only once it exists: asked for, needed before mail.
    assert env["BASE_URL"]["required"] is False and "before you set up mail" in env["BASE_URL"][
        "description"]  # fmt: skip
    variables = {v["key"]: v for v in render()["services"][0]["envVars"]}
    assert variables["SECRET_KEY"]["generateValue"] is True
    assert variables["ADMIN_PASSWORD"]["sync"] is False and variables["BASE_URL"]["sync"] is False
    readme = (ROOT / "README.md").read_text()
    deploying = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    for platform in ("fly secrets set SECRET_KEY=", "railway variables --set SECRET_KEY="):
        assert platform in deploying and "ADMIN_PASSWORD=" in deploying


def provided(manifest: str) -> dict[str, str]:
    """The environment a manifest gives the app (generated and asked-for values filled in as
    the platform and the founder would)."""
    values = {"ADMIN_PASSWORD": "a long founder password", "BASE_URL": "https://example.com"}
    if manifest == "app.json":
        env = app_json()["env"]
        return {key: spec.get("value") or values.get(key) or secrets.token_hex(32)
                for key, spec in env.items()}  # fmt: skip
    found = {}
    for spec in render()["services"][0]["envVars"]:
        if "value" in spec:
            found[spec["key"]] = spec["value"]
        elif spec.get("generateValue"):
            found[spec["key"]] = secrets.token_urlsafe(32)
        elif spec["key"] in values:
            found[spec["key"]] = values[spec["key"]]
    return found


@pytest.mark.parametrize("manifest", ["app.json", "render.yaml"])
def test_what_a_manifest_provides_passes_the_production_checks(manifest, database_url):
    env = {**provided(manifest), "DATABASE_URL": database_url, "PROXY_FIX_HOPS": "1"}
    config = from_env(env)
    assert production_problems(config) == []
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()  # what the release step does
        problems = [f for f in diagnose(app) if not f.ok]
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()
    assert problems == []


def test_the_release_and_start_commands_serve_with_what_the_manifest_provides(
    app, database_url, tmp_path
):
    with app.app_context():
        db.drop_all()
    env = {key: value for key, value in provided("app.json").items() if key != "BASE_URL"}
    with gunicorn(database_url, tmp_path / "gunicorn.log", **env) as base:
        assert requests.get(f"{base}/healthz").status_code == 200
        assert (
            requests.get(f"{base}/demo", headers={"User-Agent": "Mozilla/5.0"}).status_code == 200
        )


def platform_env(manifest: str) -> dict[str, str]:
    """What the platform gives the app by ``manifest`` (and, for Fly.io and Railway, the
    README's ``fly secrets set`` / ``railway variables`` step); the platform sets PORT and
    DATABASE_URL itself."""
    if manifest in ("app.json", "render.yaml"):
        env = provided(manifest)
    else:
        readme = (ROOT / "README.md").read_text().replace("\\\n", " ")  # continued lines
        step = "fly secrets set " if manifest == "fly.toml" else "railway variables "
        line = next(line for line in readme.splitlines() if line.startswith(step))
        keys = [k for k in re.findall(r"([A-Z_]+)=", line) if k != "DATABASE_URL"]
        values = {"SECRET_KEY": secrets.token_hex(32), "ADMIN_PASSWORD": "a long password",
                  "BASE_URL": "https://example.com"}  # fmt: skip
        env = {**(fly()["env"] if manifest == "fly.toml" else {}), **{k: values[k] for k in keys}}
        assert {"SECRET_KEY", "ADMIN_PASSWORD", "BASE_URL"} <= set(env), manifest
    env.pop("PORT", None)
    env.pop("DATABASE_URL", None)
    return env


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory) -> tuple[Path, Path]:
    """The checkout as a platform receives it (the files git tracks) and a fresh virtualenv
    where the manifests' build command ran: (project, its virtualenv's bin)."""
    project = tmp_path_factory.mktemp("checkout") / "site"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split("\0")  # fmt: skip
    for name in filter(None, tracked):
        if (ROOT / name).is_file() and not name.startswith("tests/"):
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    subprocess.run([sys.executable, "-m", "venv", str(project / ".venv")], check=True)
    bin_dir = project / ".venv" / "bin"
    build = render()["services"][0]["buildCommand"].split()  # pip install -r requirements.txt
    done = subprocess.run([str(bin_dir / build[0]), *build[1:], "--quiet"], cwd=project,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return project, bin_dir


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL")
    server = create_engine(normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"kit_deploy_{secrets.token_hex(4)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(normalise_database_url(POSTGRES_URL))
            .set(database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.mark.parametrize("manifest", ["app.json", "render.yaml", "fly.toml", "railway.json"])
def test_a_fresh_build_releases_serves_and_passes_the_doctor_with_what_a_manifest_gives(
    manifest, fresh_build, fresh_database, tmp_path
):
    """The manifests' build in a fresh virtualenv, then the release and start commands with
    the platform's variables against a new PostgreSQL database, as a first deploy runs them."""
    project, bin_dir = fresh_build
    env = platform_env(manifest)
    log = tmp_path / "gunicorn.log"
    with gunicorn(fresh_database, log, project=project, bin_dir=bin_dir, **env) as base:
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        site = {"Host": "example.com", "X-Forwarded-Proto": "https",
                "User-Agent": "Mozilla/5.0"}  # fmt: skip
        demo = requests.get(f"{base}/demo", headers=site, timeout=10, allow_redirects=False)
        assert demo.status_code == 200, (demo.status_code, demo.headers, log.read_text()[-2000:])
        doctor = subprocess.run(
            [str(bin_dir / "flask"), "--app", "app", "kit", "doctor"], cwd=project,
            env=production_env(fresh_database, **env), capture_output=True, text=True,
        )  # fmt: skip
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "problem" not in doctor.stdout.lower().replace("no problem", ""), doctor.stdout
