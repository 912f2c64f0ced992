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
