"""Fast fresh databases: the SQL tree is applied once into a template, and each test gets
``create database ... template`` of it, a file-level copy that costs milliseconds.

The template is built by ``coachdb apply`` itself (stand-in, migrations, convergence), so the
whole suite runs on exactly what apply produces; a template whose tree and migrations
disagree (a schema file changed without its migration) is an error, not a silent mismatch."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import psycopg
from psycopg import sql

from harness import SQL_ROOT
from harness.errors import LoaderError
from harness.loader import ApplyReport, apply
from harness.providers.base import Provider

TEMPLATE_NAME = "coachdb_template"


class DatabaseFactory:
    """Builds the template on a provider's server and hands out clones of it."""

    def __init__(self, provider: Provider, *, root: Path = SQL_ROOT, template: str = TEMPLATE_NAME) -> None:
        self.provider = provider
        self.root = root
        self.template = template
        self._counter = itertools.count(1)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.provider.url, autocommit=True)

    def create_empty(self, name: str) -> str:
        """A new, empty database (dropping any of that name); its URL."""
        with self._admin() as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return self.provider.url_for(name)

    def build_template(self, *, seed: bool = False) -> ApplyReport:
        """(Re)create the template database with the whole tree applied."""
        with self._admin() as conn:
            conn.execute(
                sql.SQL("alter database {} is_template false").format(sql.Identifier(self.template))
            ) if self._exists(conn, self.template) else None
        url = self.create_empty(self.template)
        report = apply(url, root=self.root, seed=seed)
        if report.unresolved:
            raise LoaderError(
                "the template does not match the SQL tree after apply: "
                + "; ".join(f"{f.name} {f.object}: {f.remediation}" for f in report.unresolved)
            )
        with self._admin() as conn:
            conn.execute(sql.SQL("alter database {} is_template true").format(sql.Identifier(self.template)))
        return report

    @staticmethod
    def _exists(conn: psycopg.Connection, name: str) -> bool:
        return conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone() is not None

    def clone(self, name: str | None = None) -> str:
        """A fresh database copied from the template; its URL."""
        name = name or f"coachdb_test_{os.getpid()}_{next(self._counter)}"
        with self._admin() as conn:
            conn.execute(
                sql.SQL("create database {} template {} strategy file_copy").format(
                    sql.Identifier(name), sql.Identifier(self.template)
                )
            )
        return self.provider.url_for(name)

    def drop(self, url_or_name: str) -> None:
        name = (
            psycopg.conninfo.conninfo_to_dict(url_or_name).get("dbname", url_or_name)
            if "/" in url_or_name
            else url_or_name
        )
        with self._admin() as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
