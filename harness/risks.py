"""What each statement of a migration does to a live database: the locks it takes, whether
it rewrites a table, whether it can lose data; written into the migration as SQL comments.

Three sources, each named in the comment it produced:

- ``measured``: the statements run one by one on a scratch copy of the previous state; for
  each, the backend's own ``pg_locks`` rows, the tables' ``relfilenode`` (a new one is a
  rewrite) and the columns and tables that are gone or changed type are read from the
  catalog. Facts, not rules; a lock taken on an empty scratch table is the lock the
  statement takes on a full one.
- ``squawk``: the findings of squawk (PyPI ``squawk-cli``), a linter for PostgreSQL
  migrations, mapped to the statement they point at.
- a classifier plug: any ``Callable[[str], list[str]]`` that says, for a statement, what it
  risks (e.g. issue 14's ``harness.locks``); its lines are added as ``classifier:``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from harness.errors import HarnessError

Classifier = Callable[[str], list[str]]

#: Modes that stop an API request: reads (ACCESS EXCLUSIVE) or writes (SHARE and above).
BLOCKING_MODES = ("ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
_MODE_NAMES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE (blocks writes)",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE (blocks writes)",
    "ExclusiveLock": "EXCLUSIVE (blocks writes)",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE (blocks reads and writes)",
}

_LOCKS = """
    select format('%I.%I', n.nspname, c.relname), l.mode
    from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace
    where l.pid = pg_backend_pid() and l.granted and l.locktype = 'relation'
        and c.relnamespace not in ('pg_catalog'::regnamespace, 'pg_toast'::regnamespace,
                                   'information_schema'::regnamespace)
        and c.relkind in ('r', 'p', 'm', 'f')"""
_FILENODES = """
    select format('%I.%I', n.nspname, c.relname), c.relfilenode
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'm') and c.relnamespace not in ('pg_catalog'::regnamespace,
        'pg_toast'::regnamespace, 'information_schema'::regnamespace)"""
_COLUMNS = """
    select a.attrelid, a.attnum, format('%I.%I', n.nspname, c.relname), quote_ident(a.attname),
           format_type(a.atttypid, a.atttypmod)
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
        and c.relnamespace not in ('pg_catalog'::regnamespace, 'pg_toast'::regnamespace,
                                   'information_schema'::regnamespace)"""


@dataclass
class StatementRisk:
    """One statement and what is known about it."""

    statement: str
    locks: list[tuple[str, str]] = field(default_factory=list)  # (relation, mode) it took
    held: list[tuple[str, str]] = field(default_factory=list)  # blocking locks earlier statements hold
    rewrites: list[str] = field(default_factory=list)
    data_loss: list[str] = field(default_factory=list)
    casts: list[str] = field(default_factory=list)
    squawk: list[str] = field(default_factory=list)
    classifier: list[str] = field(default_factory=list)
    #: It takes SHARE UPDATE EXCLUSIVE or stronger on a table that existed before the
    #: migration (a table the same migration creates is empty and unused: nothing waits).
    locks_existing: bool = False

    @property
    def blocking(self) -> list[tuple[str, str]]:
        return [(rel, mode) for rel, mode in self.locks if mode in BLOCKING_MODES]

    @property
    def risky(self) -> bool:
        """Rewrites a table, loses or casts data, or a linter objects to a statement that
        locks an existing table: worth a person's look."""
        linted = bool(self.squawk or self.classifier) and self.locks_existing
        return bool(self.rewrites or self.data_loss or self.casts or linted)

    def comment(self) -> str:
        lines = []
        if self.locks:
            held = "; ".join(f"{_MODE_NAMES.get(mode, mode)} on {rel}" for rel, mode in self.locks)
            lines.append(f"-- locks (measured): {held}")
        if self.held:
            still = "; ".join(f"{_MODE_NAMES.get(mode, mode)} on {rel}" for rel, mode in self.held)
            lines.append(f"-- still held from earlier statements of this transaction: {still}")
        lines += [f"-- REWRITE (measured): {rel} is rewritten (new relfilenode)" for rel in self.rewrites]
        lines += [f"-- DATA LOSS (measured): {what}" for what in self.data_loss]
        lines += [f"-- TYPE CHANGE (measured): {what}" for what in self.casts]
        lines += [f"-- squawk: {finding}" for finding in self.squawk]
        lines += [f"-- classifier: {line}" for line in self.classifier]
        return "\n".join(lines)


def _snapshot(conn: psycopg.Connection) -> tuple[set, dict, dict]:
    locks = set(conn.execute(_LOCKS).fetchall())
    nodes = dict(conn.execute(_FILENODES).fetchall())
    columns = {(rel, num): (table, name, kind) for rel, num, table, name, kind in conn.execute(_COLUMNS)}
    return locks, nodes, columns


def _fail(index: int, statement: str, exc: psycopg.Error) -> HarnessError:
    return HarnessError(
        f"statement {index + 1} of the migration fails on the previous state: "
        f"{exc.diag.message_primary or exc} [SQLSTATE {exc.sqlstate}]\n{statement}"
    )


def measure(url: str, statements: list[str]) -> list[StatementRisk]:
    """What each statement locks, rewrites and drops, on the scratch database at ``url``
    (which it changes: pass a copy). Each statement first runs alone in a transaction that
    is read and rolled back (its own locks, nothing of its neighbours'), then for good, so
    the next one meets the state it will meet. ``db push`` runs the file as one transaction,
    so the blocking locks of earlier statements are reported as still held.
    Raises when a statement fails: the migration would fail the same way."""
    risks = []
    held: set[tuple[str, str]] = set()
    with psycopg.connect(url, autocommit=True) as conn:
        _, nodes, columns = _snapshot(conn)
        existing = set(nodes)
        strong = ("ShareUpdateExclusiveLock", *BLOCKING_MODES)
        for index, statement in enumerate(statements):
            try:
                with conn.transaction():
                    conn.execute(statement.encode())
                    after_locks, after_nodes, after_columns = _snapshot(conn)
                    raise psycopg.Rollback()
            except psycopg.Error as exc:
                raise _fail(index, statement, exc) from exc
            risk = StatementRisk(statement, locks=sorted(after_locks))
            risk.held = sorted(held - after_locks)
            held |= {(rel, mode) for rel, mode in after_locks if mode in BLOCKING_MODES}
            risk.locks_existing = any(rel in existing and mode in strong for rel, mode in risk.locks)
            risk.rewrites = sorted(r for r, node in after_nodes.items() if r in nodes and nodes[r] != node)
            # By oid and attnum, so a rename is no loss; a type change casts every value.
            gone = {rel for rel, _ in columns} - {rel for rel, _ in after_columns}
            risk.data_loss = sorted({f"drops table {columns[k][0]} and its rows" for k in columns if k[0] in gone})
            risk.data_loss += [
                f"drops column {columns[key][0]}.{columns[key][1]} and its values"
                for key in sorted(columns.keys() - after_columns.keys())
                if key[0] not in gone
            ]
            risk.casts = [
                f"casts column {after_columns[key][0]}.{after_columns[key][1]} from {columns[key][2]} to "
                f"{after_columns[key][2]}: a narrowing cast fails or changes values"
                for key in sorted(columns.keys() & after_columns.keys())
                if columns[key][2] != after_columns[key][2]
            ]
            risks.append(risk)
            try:
                conn.execute(statement.encode())
            except psycopg.Error as exc:
                raise _fail(index, statement, exc) from exc
            _, nodes, columns = _snapshot(conn)
    return risks


def squawk_path() -> str | None:
    """squawk beside this Python (a venv's bin), else on PATH."""
    local = Path(sys.executable).parent / "squawk"
    return str(local) if local.exists() else shutil.which("squawk")


#: squawk rules left out, and why: the file runs once, in one transaction (``db push``), so
#: re-runnable statements buy nothing; a statement timeout would abort long but safe steps
#: (a validating scan) halfway, where the lock timeout already keeps the API from waiting.
SQUAWK_EXCLUDED = ("prefer-robust-stmts", "require-statement-timeout")


def lint(risks: list[StatementRisk], pg_version: str, preamble: str = "") -> bool:
    """Add squawk's findings to the statements they point at; False when squawk is not
    installed (the migration then says so instead of pretending it was linted).
    ``preamble`` (the migration's ``set local lock_timeout``) is linted before them."""
    squawk = squawk_path()
    if squawk is None:
        return False
    starts, text = [], preamble
    line = preamble.count("\n")
    for risk in risks:
        starts.append(line)
        chunk = risk.statement.rstrip().rstrip(";") + ";\n"
        text += chunk
        line += chunk.count("\n")
    with tempfile.TemporaryDirectory(prefix="coachdb-squawk-") as tmp:
        path = os.path.join(tmp, "migration.sql")
        Path(path).write_text(text)
        result = subprocess.run(
            [
                squawk,
                "--reporter=json",
                "--assume-in-transaction",
                f"--pg-version={pg_version}",
                f"--exclude={','.join(SQUAWK_EXCLUDED)}",
                path,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        findings = json.loads(result.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise HarnessError(f"squawk did not answer in JSON: {result.stderr.strip()[:300]}") from exc
    for finding in findings:
        before = [i for i, start in enumerate(starts) if start <= finding["line"]]
        if not before:
            continue  # about the preamble
        index = before[-1]
        note = f"{finding['rule_name']}: {finding['message']}"
        if finding.get("help"):
            note += f" {finding['help']}"
        if note not in risks[index].squawk:
            risks[index].squawk.append(note)
    return True


def classify(risks: list[StatementRisk], classifier: Classifier | None) -> None:
    if classifier is None:
        return
    for risk in risks:
        risk.classifier = list(classifier(risk.statement))
