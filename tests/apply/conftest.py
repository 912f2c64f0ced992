"""Fixtures for apply on live databases: a scratch copy of the tree (SQL files and
migrations) a test may add a migration to, and clients that carry an application name so
that the server's own views tell their backends apart."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from harness import ROOT
from harness.context import Client
from harness.migrations import migrations_dir


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the SQL tree and its migrations, to change without touching the real one."""
    shutil.copytree(ROOT / "db", tmp_path / "db")
    shutil.copytree(migrations_dir(ROOT), migrations_dir(tmp_path))
    return tmp_path


def add_migration(tree: Path, version: str, name: str, text: str) -> Path:
    path = migrations_dir(tree) / f"{version}_{name}.sql"
    path.write_text(text)
    return path


@pytest.fixture
def empty_db(databases, request) -> Iterator[str]:
    """A database with nothing of coachdb in it (the server's roles may exist)."""
    name = f"coachdb_apply_{uuid.uuid4().hex[:10]}"
    url = databases.create_empty(name)
    yield url
    databases.drop(name)


@pytest.fixture
def tagged_client(db_url: str) -> Iterator[Callable[..., Client]]:
    """``tagged_client(user_id, tag)``: a signed-in client whose backend reads
    ``application_name = tag`` in pg_stat_activity."""
    opened: list[psycopg.Connection] = []

    def _client(user_id: uuid.UUID, tag: str) -> Client:
        conn = psycopg.connect(
            db_url, user="authenticator", autocommit=True, prepare_threshold=None, application_name=tag
        )
        opened.append(conn)
        return Client(conn, user_id=user_id)

    yield _client
    for conn in opened:
        conn.close()


class Load:
    """Signed-in requests in a loop on several connections, each timed: ``samples`` holds
    (started, seconds, error) per request, measured with the monotonic clock around the
    whole request (the transaction, its context and its statements) as the client sees it."""

    def __init__(self, clients: list[tuple[Client, Callable[[Client], object]]]) -> None:
        import threading

        self.samples: list[tuple[float, float, str | None]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=pair, daemon=True) for pair in clients]

    def _run(self, client: Client, request: Callable[[Client], object]) -> None:
        import time

        while not self._stop.is_set():
            started = time.monotonic()
            error = None
            try:
                request(client)
            except psycopg.Error as exc:
                error = f"{exc.sqlstate}: {exc}"
            self.samples.append((started, time.monotonic() - started, error))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def during(self, start: float, end: float) -> list[tuple[float, float, str | None]]:
        """The requests that were in flight at some moment of [start, end]."""
        return [s for s in self.samples if s[0] <= end and s[0] + s[1] >= start]
