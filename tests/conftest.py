"""Fixtures every suite shares: one server per run (``--provider``), a template database
built once, a fresh clone per test, and clients that act as users the way PostgREST does."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from harness.context import Client
from harness.databases import DatabaseFactory
from harness.errors import ProviderUnavailable
from harness.pgtap import has_pgtap, run_file
from harness.pooler import Pgbouncer
from harness.providers import DEFAULT_PROVIDER, Provider, get_provider
from tests.helpers import ContractClient

SQL_TESTS = Path(__file__).parent / "sql"

# Hypothesis profiles: "dev" for quick local runs, "ci" (chosen when CI is set) with the
# example counts CI must reach, "deep" on demand (HYPOTHESIS_PROFILE=deep coachdb test).
_common = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("dev", max_examples=150, stateful_step_count=20, **_common)
settings.register_profile("ci", max_examples=1000, stateful_step_count=30, **_common)
settings.register_profile("deep", max_examples=10000, stateful_step_count=50, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pooler",
        action="store_true",
        default=os.environ.get("COACHDB_POOLER") == "1",
        help="route every client through pgbouncer in transaction mode (as Supabase's pooler)",
    )
    parser.addoption(
        "--provider",
        default=os.environ.get("COACHDB_PROVIDER", DEFAULT_PROVIDER),
        help="where the test server comes from: embedded (default), system, container, url",
    )


class _Server:
    """The run's one server and template, started on first use (collection of pgTAP files
    may need it before any fixture does) and stopped when the run ends."""

    def __init__(self) -> None:
        self.provider: Provider | None = None
        self.factory: DatabaseFactory | None = None
        self.unavailable: str | None = None

    def get(self, config: pytest.Config) -> DatabaseFactory:
        if self.unavailable:
            pytest.skip(self.unavailable)
        if self.factory is None:
            name = config.getoption("--provider")
            try:
                self.provider = get_provider(name)
                self.provider.start()
            except ProviderUnavailable as exc:
                self.unavailable = str(exc)
                pytest.skip(self.unavailable)
            self.factory = DatabaseFactory(self.provider)
            self.factory.build_template()
        return self.factory

    def stop(self) -> None:
        if self.provider is not None:
            self.provider.stop()
            self.provider = None


SERVER = _Server()


def pytest_report_header(config: pytest.Config) -> str:
    pooled = " behind pgbouncer (transaction mode)" if config.getoption("--pooler") else ""
    return f"coachdb provider: {config.getoption('--provider')}{pooled}"


def pytest_unconfigure(config: pytest.Config) -> None:
    SERVER.stop()


# -- servers and databases ----------------------------------------------------------------


@pytest.fixture(scope="session")
def databases(request: pytest.FixtureRequest) -> DatabaseFactory:
    """The run's server with the template built: ``databases.clone()`` makes a fresh one."""
    return SERVER.get(request.config)


@pytest.fixture(scope="session")
def provider(databases: DatabaseFactory) -> Provider:
    return databases.provider


@pytest.fixture
def db_url(databases: DatabaseFactory) -> Iterator[str]:
    """A fresh database with the whole tree applied, dropped after the test."""
    url = databases.clone()
    yield url
    databases.drop(url)


@pytest.fixture
def connect(db_url: str) -> Iterator[Callable[..., psycopg.Connection]]:
    """Open autocommit connections to the test database (as its superuser by default);
    all are closed after the test."""
    opened: list[psycopg.Connection] = []

    def _connect(**kwargs: object) -> psycopg.Connection:
        conn = psycopg.connect(db_url, autocommit=True, **kwargs)
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        conn.close()


@pytest.fixture
def admin(connect: Callable[..., psycopg.Connection]) -> psycopg.Connection:
    """The owner's connection: bypasses RLS, for arranging data and checking the truth."""
    return connect()


# -- users and clients --------------------------------------------------------------------


@pytest.fixture
def make_user(admin: psycopg.Connection) -> Callable[..., uuid.UUID]:
    """Create an auth.users row, as Supabase Auth does at sign-up; returns its id."""

    def _make_user(email: str | None = None) -> uuid.UUID:
        user_id = uuid.uuid4()
        admin.execute(
            "insert into auth.users (id, aud, role, email) values (%s, 'authenticated', 'authenticated', %s)",
            [user_id, email or f"{user_id}@example.test"],
        )
        return user_id

    return _make_user


@pytest.fixture
def client_url(request: pytest.FixtureRequest, db_url: str) -> Iterator[str]:
    """Where clients connect: the test database itself, or with ``--pooler`` a pgbouncer in
    transaction mode (2 server connections) in front of it, one per test."""
    if not request.config.getoption("--pooler"):
        yield db_url
        return
    try:
        bouncer = Pgbouncer(db_url, pool_size=2)
        bouncer.start()
    except ProviderUnavailable as exc:
        pytest.skip(str(exc))
    yield bouncer.url(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])
    bouncer.stop()


@pytest.fixture
def client(client_url: str) -> Iterator[Callable[..., Client]]:
    """A client on its own connection, logged in as ``authenticator`` like PostgREST:
    ``client(user_id)``, ``client(role="anon")``. No server-side prepared statements, so
    the same clients work behind a transaction-mode pooler. Every RPC answer is checked
    against its contract (``ContractClient``)."""
    opened: list[psycopg.Connection] = []

    def _client(user_id: uuid.UUID | None = None, role: str = "authenticated", **kwargs: object) -> Client:
        conn = psycopg.connect(client_url, user="authenticator", autocommit=True, prepare_threshold=None)
        opened.append(conn)
        return ContractClient(conn, user_id=user_id, role=role, **kwargs)

    yield _client
    for conn in opened:
        conn.close()


@pytest.fixture
def alice(make_user: Callable[..., uuid.UUID], client: Callable[..., Client]) -> Client:
    return client(make_user("alice@example.test"))


@pytest.fixture
def bob(make_user: Callable[..., uuid.UUID], client: Callable[..., Client]) -> Client:
    return client(make_user("bob@example.test"))


@pytest.fixture
def anon(client: Callable[..., Client]) -> Client:
    return client(role="anon")


@pytest.fixture
def service(client: Callable[..., Client]) -> Client:
    return client(role="service_role")


# -- pgTAP files: one pytest result per assertion ------------------------------------------


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".sql" and file_path.parent == SQL_TESTS:
        return PgTapFile.from_parent(parent, path=file_path)
    return None


class PgTapFile(pytest.File):
    """Runs the file once, on a fresh clone, at collection; yields an item per assertion."""

    def collect(self):
        try:
            factory = SERVER.get(self.config)
        except pytest.skip.Exception as exc:
            yield PgTapItem.from_parent(self, name="pgtap", outcome=("skip", str(exc.msg)))
            return
        url = factory.clone()
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                available = has_pgtap(conn)
            if not available:
                reason = f"pgTAP is not installed on this server ({factory.provider.describe()})"
                yield PgTapItem.from_parent(self, name="pgtap", outcome=("skip", reason))
                return
            run = run_file(url, self.path)
        finally:
            factory.drop(url)
        for a in run.assertions:
            if a.directive == "SKIP":
                outcome = ("skip", a.reason or "skipped by pgTAP")
            elif a.ok or a.directive == "TODO":
                outcome = ("pass", "")
            else:
                outcome = ("fail", "\n".join(a.diagnostics) or "assertion failed")
            yield PgTapItem.from_parent(self, name=f"{a.number:03d} {a.description}", outcome=outcome)
        count = len(run.assertions)
        if run.error or (run.planned is not None and run.planned != count):
            problem = run.error or f"planned {run.planned} assertions, ran {count}"
            yield PgTapItem.from_parent(self, name="plan", outcome=("fail", problem))


class PgTapItem(pytest.Item):
    def __init__(self, *, outcome: tuple[str, str], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.outcome = outcome

    def runtest(self) -> None:
        kind, detail = self.outcome
        if kind == "skip":
            pytest.skip(detail)
        if kind == "fail":
            raise PgTapFailure(detail)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, PgTapFailure):
            return f"{self.path.name}: {self.name}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::{self.name}"


class PgTapFailure(Exception):
    """A pgTAP assertion that printed ``not ok``; the message is its diagnostics."""
