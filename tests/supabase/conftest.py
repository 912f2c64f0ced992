"""Fixtures for the Supabase-project suites: scratch databases on the run's server, and a
copy of the tree and its migrations that a test may edit."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from harness import ROOT, SQL_ROOT, builds, catalog
from harness.providers import Provider


@pytest.fixture
def scratch(provider: Provider) -> Iterator[Callable[[], str]]:
    """``scratch()``: a new empty database on the run's server; all are dropped afterwards."""
    stack = contextlib.ExitStack()

    def _scratch() -> str:
        return stack.enter_context(builds.scratch_database(provider.url, prefix="coachdb_supabase_test"))

    with stack:
        yield _scratch


@dataclass
class TreeCopy:
    """A copy of db/ and supabase/ under tmp_path: ``root`` is what ``SQL_ROOT`` is for the
    real tree, ``migrations`` its supabase/migrations."""

    root: Path

    @property
    def migrations(self) -> Path:
        return self.root / "supabase" / "migrations"

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text, f"{relative} no longer contains {old!r}: update the test's edit"
        path.write_text(text.replace(old, new))

    def append(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.write_text((path.read_text() if path.exists() else "") + text)


@pytest.fixture
def tree(tmp_path: Path) -> TreeCopy:
    shutil.copytree(SQL_ROOT / "db", tmp_path / "db")
    shutil.copytree(ROOT / "supabase" / "migrations", tmp_path / "supabase" / "migrations")
    return TreeCopy(tmp_path)


@pytest.fixture
def catalog_of() -> Callable[[str], catalog.Snapshot]:
    """``catalog_of(url)``: the app's catalog snapshot of that database."""

    def _catalog_of(url: str) -> catalog.Snapshot:
        with psycopg.connect(url, autocommit=True) as conn:
            return catalog.snapshot(conn)

    return _catalog_of
