"""Shared fixtures: fresh databases (SQLite and the running PostgreSQL), app, logged-in
clients, and the real Asterisk (one per run) with a daemon per test."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles

from center import schema
from foundation import users as users_module
from foundation.db import Database
from foundation.settings import Settings, default_cache_dir, load_settings
from foundation.users import Role, create_user
from tests.support.pbx import (
    STARTED,
    DaemonProc,
    Pbx,
    diagnostics,
    make_pbx,
    running_daemon,
    stop_leftover_daemons,
)

PG_ADMIN_URL = os.environ.get("CIVIC311_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_PASSWORD = "correct-horse-battery"


RERUNS = int(os.environ.get("CIVIC311_TEST_RERUNS", "1"))
# fixtures that always reach PostgreSQL (besides the "postgres" param of ``database``)
PG_FIXTURES = {"pg_db", "pg"}


def pytest_configure(config: pytest.Config) -> None:
    """Tests hash passwords with argon2id's cheapest parameters. The production cost
    (64 MiB, three passes: over a second on a busy two-core machine) is the point in
    production and only waiting in a test, which creates a user per role. Subprocesses
    (daemon, ``civic311 up``) keep the real cost; argon2 verifies either kind of hash."""
    users_module._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


def _pins_database(metafunc: pytest.Metafunc) -> bool:
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "database" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The real-Asterisk tier runs on PostgreSQL (as in production); a test marked
    ``sqlite_smoke`` also runs on SQLite. Tests without Asterisk keep both backends."""
    if ("database" in metafunc.fixturenames and "pbx" in metafunc.fixturenames
            and not _pins_database(metafunc)):
        kinds = (["sqlite", "postgres"] if metafunc.definition.get_closest_marker("sqlite_smoke")
                 else ["postgres"])
        # as a marker, so the fixture's own params give way (as to a test's own parametrize)
        metafunc.definition.add_marker(pytest.mark.parametrize("database", kinds, indirect=True))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers by path and by fixture: tests/browser -> ``browser``; the Asterisk fixture ->
    ``asterisk``; a PostgreSQL database -> ``postgres``. So ``-m "not asterisk and not
    browser and not postgres"`` needs nothing but Python.

    Tests on the real Asterisk with SIPp phones get ``CIVIC311_TEST_RERUNS`` (default 1)
    second tries: on a shared two-core machine a SIPp phone can miss its timing without
    anything being wrong in civic311. Every rerun is listed loudly at the end of the run
    (see ``pytest_terminal_summary``); a failure that repeats still fails the run."""
    browser_dir = Path(__file__).parent / "browser"
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if browser_dir in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
        if "pbx" in fixtures:
            item.add_marker(pytest.mark.asterisk)
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("database") == "postgres"
        if on_pg or fixtures & PG_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if RERUNS and item.get_closest_marker("asterisk") is not None:
            item.add_marker(pytest.mark.flaky(reruns=RERUNS, reruns_delay=2))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test on the real Asterisk carries the daemon's and phones' logs in its report."""
    outcome = yield
    report = outcome.get_result()
    args = getattr(item, "funcargs", {})
    if report.failed and report.when == "call" and ("daemon" in args or "clean_pbx" in args
                                                    or STARTED):
        for title, text in diagnostics(args.get("clean_pbx"), STARTED or [args.get("daemon")]):
            report.sections.append((title, text))


@pytest.fixture(autouse=True)
def no_daemon_left() -> Iterator[None]:
    """After every test, the daemons it started and left running are stopped."""
    yield
    stop_leftover_daemons()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly which tests only passed on a second try: a rerun is a flake to fix."""
    reruns = terminalreporter.stats.get("rerun", [])
    if reruns:
        terminalreporter.section(f"{len(reruns)} RERUN(S): flakes hidden by the one-rerun "
                                 "safety net", sep="!", red=True, bold=True)
        for report in reruns:
            terminalreporter.write_line(f"RERUN {report.nodeid}", red=True)


def _pg_available() -> bool:
    try:
        with sa.create_engine(PG_ADMIN_URL).connect():
            return True
    except Exception:
        return False


class _MigratedTemplates:
    """One migrated database per kind per test process, copied for every test that wants a
    fresh one: running the migrations takes longer than copying their result (SQLite: a
    file copy; PostgreSQL: ``CREATE DATABASE ... TEMPLATE``)."""

    def __init__(self) -> None:
        self.sqlite: Path | None = None
        self.postgres: str | None = None

    def sqlite_file(self) -> Path:
        if self.sqlite is None:
            path = Path(tempfile.mkdtemp(prefix="civic311-template-")) / "template.db"
            db = Database(f"sqlite:///{path}")
            schema.upgrade(db)
            db.dispose()
            self.sqlite = path
        return self.sqlite

    def postgres_name(self, admin: sa.Engine) -> str:
        if self.postgres is None:
            name = f"civic311_tmpl_{uuid.uuid4().hex[:12]}"
            with admin.connect() as c:
                c.execute(sa.text(f'CREATE DATABASE "{name}"'))
            db = Database(admin.url.set(database=name).render_as_string(hide_password=False))
            schema.upgrade(db)
            db.dispose()
            self.postgres = name
        return self.postgres

    def drop(self) -> None:
        if self.sqlite is not None:
            shutil.rmtree(self.sqlite.parent, ignore_errors=True)
        if self.postgres is not None:
            admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.postgres}" WITH (FORCE)'))
            admin.dispose()


_templates = _MigratedTemplates()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _templates.drop()


def make_database(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A migrated empty database of ``kind`` for one test, dropped after it."""
    if kind == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(_templates.sqlite_file(), path)
        db = Database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    if not _pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    name = f"civic311_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    template = _templates.postgres_name(admin)
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    db = Database(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated empty database, once on SQLite and once on PostgreSQL."""
    yield from make_database(request.param, tmp_path)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    yield from make_database("sqlite", tmp_path)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return load_settings(data_dir=str(tmp_path / "data"))


@pytest.fixture
def app(settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    from center.web import create_app

    settings.database_url = database.url
    app = create_app(settings, database)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def users(database: Database) -> dict[str, str]:
    """One user per role; returns {role: username}."""
    out = {}
    with database.session() as s:
        for role in Role:
            create_user(s, f"{role.value}1", TEST_PASSWORD, role.value,
                        agent_ext="100" if role is Role.AGENT else None,
                        agency="DSNY" if role is Role.AGENCY else None)
            out[role.value] = f"{role.value}1"
    return out


def login(client, username: str, password: str = TEST_PASSWORD):  # type: ignore[no-untyped-def]
    """Log in through the real form, CSRF token included; returns the response."""
    import re

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def csrf_token(client, path: str = "/login") -> str:  # type: ignore[no-untyped-def]
    import re

    page = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


# ---- the real Asterisk: one for the whole run, a daemon per test --------------------------
@pytest.fixture(scope="session")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbx]:
    """A real Asterisk (provisioned root, rendered config, test ports) for the session."""
    tmp = tmp_path_factory.mktemp("pbx")
    pbx = make_pbx(tmp, default_cache_dir())
    try:
        pbx.start()
        yield pbx
    finally:
        pbx.stop_phones()
        pbx.stop()


@pytest.fixture
def clean_pbx(pbx: Pbx) -> Iterator[Pbx]:
    pbx.reset()
    yield pbx
    pbx.stop_phones()


@pytest.fixture
def daemon(clean_pbx: Pbx, database: Database, tmp_path: Path) -> Iterator[DaemonProc]:
    """A real ``civic311 daemon`` process for this test, writing into ``database``."""
    with running_daemon(clean_pbx, database.url, tmp_path / "daemon.log") as proc:
        yield proc
