"""``coachdb apply``: bring a live database to the SQL tree, all or nothing, without stalling it.

The steps, in order (``plan`` lists them before anything is written; ``--dry-run`` stops there):

1. **stand-in**: where the database has no ``auth`` schema of its own, Supabase's stand-in
   (``db/standin``), each file in a transaction with its row in ``coachdb_meta.applied_files``;
2. **preflight**: every object the pending migrations create that already exists and is not
   coachdb's (on a database coachdb did not build) is listed and apply refuses, having written
   nothing, not even its ledger;
3. **migrations**: ``supabase/migrations`` (the one history of the schema) minus the versions
   in ``supabase_migrations.schema_migrations``, in order, each in one transaction together
   with its row there, exactly as ``supabase db push`` records it; statements that cannot run
   in a transaction (``create index concurrently``) run after it, resumable
   (``harness.concurrent``). Every transaction runs under ``harness.guard``: its table locks
   taken first in a fixed order, a lock budget (``lock_timeout``), retries with backoff. A
   statement that would change nothing (``enable row level security`` where it is on) is
   skipped;
4. **converge**: doctor's drift engine compares the database with a reference build of the
   tree's files, and ``harness.converge`` puts back what was changed by hand (RLS flags,
   policies, privileges, functions, triggers, comments), one transaction per table or
   function; schema drift (a dropped column, a changed type, a missing index) is reported,
   never "repaired" by dropping, and makes the CLI exit non-zero;
5. **seed**: the demo data, only when asked.

A database whose ledger predates the migrations (``coachdb_meta.applied_files`` with
``db/schema/...`` rows) has those files counted as their baseline migrations, and the
``schema_migrations`` rows are written for them. Errors name the file and line:
``supabase/migrations/20261125000500_schema_010_profiles.sql:7: relation ... already exists``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pglast import ast, parse_sql
from pglast.parser import ParseError

from harness import SQL_ROOT, concurrent, converge
from harness.doctor import drift
from harness.doctor.declared import declared_unique_keys
from harness.doctor.findings import Finding
from harness.errors import HarnessError
from harness.execute import run_script
from harness.execute import statements as statements  # re-exported: pgtap splits with it
from harness.guard import LockPolicy, lock_plan, run_guarded
from harness.ledger import (
    LEDGER_DDL,
    MIGRATIONS_DDL,
    PendingMigration,
    exists,
    inspect,
    record_file,
    record_migration,
    tree_migrations,
)
from harness.ledger import tree_mode as tree_mode  # re-exported: doctor's tree mode
from harness.locks import classify, classify_script
from harness.migrations import BASELINE_STAGES
from harness.plan import Plan, Step
from harness.sqltree import sql_files

#: Session advisory lock key that keeps two concurrent applies from interleaving.
APPLY_LOCK = 0x636F6163  # "coac"


class PreflightError(HarnessError):
    """The tree would create objects that exist and are not coachdb's; nothing was written."""


@dataclass
class ApplyReport:
    applied: list[str] = field(default_factory=list)  # migrations, stand-in and seed files run
    unchanged: list[str] = field(default_factory=list)  # migrations already recorded
    standin: str = ""  # "loaded", "kept" or "skipped: ..." (Supabase's own auth is there)
    backfilled: list[str] = field(default_factory=list)  # old-ledger files recorded as migrations
    skipped: list[str] = field(default_factory=list)  # statements that would have changed nothing
    concurrent: list[str] = field(default_factory=list)  # steps run outside a transaction
    repaired: list[str] = field(default_factory=list)  # what converge put back
    unresolved: list[Finding] = field(default_factory=list)  # drift apply does not repair
    plan: Plan = field(default_factory=Plan)

    def summary(self) -> str:
        parts = [
            f"{len(self.applied)} file(s) applied, {len(self.unchanged)} migration(s) already there",
            f"{len(self.repaired)} drift repair(s)",
            f"Supabase stand-in {self.standin}",
        ]
        if self.backfilled:
            parts.append(f"{len(self.backfilled)} old ledger file(s) recorded as migrations")
        if self.unresolved:
            parts.append(f"{len(self.unresolved)} difference(s) apply cannot repair")
        return "; ".join(parts)


_EXISTS = {
    "table": "select to_regclass(%s)",
    "index": "select to_regclass(%s)",
    "type": "select to_regtype(%s)",
    "schema": "select to_regnamespace(%s)",
    "function": "select to_regprocedure(%s)",
    "function or replace": "select to_regprocedure(%s)",
}


def preflight(conn: psycopg.Connection, steps: list[Step], coachdb: bool) -> list[str]:
    """Objects the pending migrations would create that exist already and are not coachdb's:
    on a database coachdb did not build, anything of the same name; on a coachdb database,
    an object a migration creates without ``if not exists`` / ``or replace``."""
    collisions = []
    for step in steps:
        for effect in step.effects:
            for kind, name in effect.creates:
                if kind == "function or replace" and coachdb:
                    continue
                if exists(conn, _EXISTS[kind], name):
                    collisions.append(f"{kind.replace(' or replace', '')} {name} (created by {step.title})")
    return collisions


# -- statements that would change nothing ----------------------------------------------------


def _noop(conn: psycopg.Connection, statement: str) -> bool:
    """True for ``alter table ... enable/disable row level security`` where it already is."""
    try:
        stmt = parse_sql(statement)[0].stmt
    except (ParseError, IndexError):
        return False
    if not isinstance(stmt, ast.AlterTableStmt) or not stmt.cmds:
        return False
    from pglast.enums import AlterTableType as T

    wanted = {T.AT_EnableRowSecurity: True, T.AT_DisableRowSecurity: False}
    if not all(cmd.subtype in wanted for cmd in stmt.cmds):
        return False
    table = f"{stmt.relation.schemaname or 'public'}.{stmt.relation.relname}"
    row = conn.execute("select relrowsecurity from pg_class where oid = to_regclass(%s)", [table]).fetchone()
    return row is not None and all(row[0] == wanted[cmd.subtype] for cmd in stmt.cmds)


# -- the plan -------------------------------------------------------------------------------


@dataclass
class _MigrationWork:
    migration: PendingMigration
    step: Step
    deferred: list[str]  # outside the transaction, resumable


def _migration_work(conn: psycopg.Connection, migration: PendingMigration) -> _MigrationWork:
    parsed = statements(migration.text) or []
    effects = [classify(text) for _, text in parsed]
    deferred = [text for (_, text), e in zip(parsed, effects, strict=True) if not e.transactional]
    live = [e for e in effects if not (e.transactional and _noop(conn, e.statement))]
    skipped = len(effects) - len(live)
    step = Step("migration", migration.label, live)
    if skipped:
        step.notes.append(f"{skipped} statement(s) skipped: they would change nothing on this database")
    if deferred:
        step.notes.append(f"{len(deferred)} statement(s) run after the transaction, resumable")
    return _MigrationWork(migration, step, deferred)


def _files_step(kind: str, files: list) -> list[Step]:
    return [Step(kind, f.name, classify_script(f.text)) for f in files]


# -- apply ----------------------------------------------------------------------------------


def apply(
    url: str,
    *,
    root: Path = SQL_ROOT,
    seed: bool = False,
    standin: bool | None = None,
    dry_run: bool = False,
    lock: LockPolicy | None = None,
    converge_drift: bool = True,
    on_plan: Callable[[Plan], None] | None = None,
) -> ApplyReport:
    """Bring the database at ``url`` to the SQL tree under ``root`` (see the module docstring).

    ``standin=None`` loads the Supabase stand-in only where the database has no ``auth``
    schema of its own (or where the stand-in was loaded before); ``seed`` adds the demo data;
    ``dry_run`` returns the plan having changed nothing; ``lock`` bounds how long any request
    can wait behind apply; ``on_plan`` sees the plan once it is made, before the first write.
    """
    lock = lock or LockPolicy()
    report = ApplyReport()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", [APPLY_LOCK])
        try:
            _apply(conn, url, root, seed, standin, dry_run, lock, converge_drift, report, on_plan)
        finally:
            if not conn.broken:  # a killed backend has released it already
                conn.execute("select pg_advisory_unlock(%s)", [APPLY_LOCK])
    return report


def _apply(conn, url, root, seed, standin, dry_run, lock, converge_drift, report: ApplyReport, on_plan) -> None:
    state = inspect(conn)
    plan = report.plan
    plan.mode = "coachdb database" if state.coachdb else "new to coachdb"

    # 1. the stand-in
    if standin is None:
        if any(name.startswith("db/standin/") for name in state.ledger):
            standin, report.standin = True, "kept"
        elif state.has_auth:
            standin, report.standin = False, "skipped: the database has its own auth schema"
        else:
            standin, report.standin = True, "loaded"
    else:
        report.standin = "loaded" if standin else "skipped (asked)"
    standin_files = [
        f for f in (sql_files(root, stages=("standin",)) if standin else []) if state.ledger.get(f.name) != f.checksum
    ]
    if not state.has_ledger or not state.has_history:
        absent = [
            n
            for n, there in (
                ("coachdb_meta.applied_files", state.has_ledger),
                ("supabase_migrations.schema_migrations", state.has_history),
            )
            if not there
        ]
        plan.add(
            Step(
                "ledger",
                "create " + " and ".join(absent),
                notes=["schema_migrations as the Supabase CLI creates it; coachdb_meta also holds pending_steps"],
            )
        )
    for step in _files_step("standin", standin_files):
        plan.add(step)

    # 2. the old ledger's files as their baseline migrations
    migrations = tree_migrations(root)
    by_name: dict[str, PendingMigration] = {}
    for m in migrations:
        by_name.setdefault(m.name, m)
    backfill = []
    for file in state.ledger:
        parts = file.split("/")
        if len(parts) == 3 and parts[1] in BASELINE_STAGES:
            m = by_name.get(f"{parts[1]}_{Path(parts[2]).stem}")
            if m is not None and m.version not in state.applied_versions:
                backfill.append(m)
    backfill.sort(key=lambda m: m.version)
    if backfill:
        plan.add(
            Step(
                "backfill",
                f"record {len(backfill)} migration(s) the old ledger shows applied",
                notes=[f"{m.version} {m.name}" for m in backfill[:3]] + (["..."] if len(backfill) > 3 else []),
            )
        )
    done = state.applied_versions | {m.version for m in backfill}

    # 3. owed concurrent steps, then the pending migrations
    owed = concurrent.pending(conn)
    for s in owed:
        plan.add(Step("resume", f"{s.version} step {s.ordinal}", [classify(s.statement)]))
    work = []
    for m in migrations:
        if m.version in done:
            report.unchanged.append(m.label)
            continue
        w = _migration_work(conn, m)
        work.append(w)
        plan.add(w.step)
    collisions = preflight(conn, [w.step for w in work], state.coachdb)
    if collisions:
        raise PreflightError(
            f"refused, nothing written: the database has {len(collisions)} object(s) the tree would create and "
            "that coachdb did not: "
            + "; ".join(collisions)
            + ". Apply coachdb to a database without them, or rename or move them first"
        )

    # 4. converge: known now when nothing runs before it, else decided after the migrations
    repairs: list[converge.Repair] | None = None
    if converge_drift and not work and not owed and state.coachdb:
        repairs, unrepaired = _converge_plan(conn, url, root)
        for r in repairs:
            plan.add(Step("converge", r.scope, [classify(s) for s in r.statements], notes=list(r.repairs)))
        if not repairs:
            plan.add(Step("converge", "nothing to put back"))
        if unrepaired:
            plan.add(
                Step(
                    "not fixed",
                    f"{len(unrepaired)} schema difference(s) apply does not repair (exit 1)",
                    notes=[f"{f.name}: {f.object}: {f.remediation}" for f in unrepaired],
                )
            )
    elif converge_drift:
        plan.add(
            Step(
                "converge",
                "repeatable objects back to the tree (doctor's drift engine)",
                notes=["decided once the migrations have run; each repair is reported as made"],
            )
        )

    # 5. the seed
    seed_files = (
        [f for f in sql_files(root, stages=("seed",)) if state.ledger.get(f.name) != f.checksum] if seed else []
    )
    for step in _files_step("seed", seed_files):
        plan.add(step)

    if on_plan is not None:
        on_plan(plan)
    if dry_run:
        return

    # -- from here on, writes
    if not (
        state.has_ledger and state.has_history and exists(conn, "select to_regclass(%s)", "coachdb_meta.pending_steps")
    ):
        with conn.transaction():
            conn.execute(LEDGER_DDL.encode())
            conn.execute(MIGRATIONS_DDL.encode())
            conn.execute(concurrent.PENDING_DDL.encode())
    for file in standin_files:
        _run_file(conn, file, lock, report)
    if backfill:
        with conn.transaction():
            for m in backfill:
                record_migration(conn, m)
                report.backfilled.append(m.label)
    for s in owed:
        report.concurrent.append(f"{s.version} step {s.ordinal}: {concurrent.run_step(conn, s)}")
    for w in work:
        _run_migration(conn, w, lock, report)

    if converge_drift:
        if repairs is None:
            repairs, _ = _converge_plan(conn, url, root)
        report.repaired = converge.run(conn, repairs, lock)
        declared = declared_unique_keys(root)
        reference = drift.reference_snapshot(conn, url, root)
        remaining = drift.differences(reference, drift.snapshot(conn), declared)
        report.unresolved = [f for f in drift.findings_of(remaining) if f.level == "ERROR"]
        converged_to = [
            f for f in sql_files(root, stages=("functions", "policies")) if state.ledger.get(f.name) != f.checksum
        ]
        if converged_to:
            with conn.transaction():
                for file in converged_to:
                    record_file(conn, file.name, file.checksum)
    for file in seed_files:
        _run_file(conn, file, lock, report)


def _converge_plan(conn: psycopg.Connection, url: str, root: Path) -> tuple[list[converge.Repair], list[Finding]]:
    """The repairs convergence makes now, and the drift it will not repair (schema drift)."""
    reference = drift.reference_snapshot(conn, url, root)
    live = drift.snapshot(conn)
    diffs = drift.differences(reference, live, declared_unique_keys(root))
    unrepaired = [d for d in diffs if d.level == "ERROR" and d.kind not in drift.REPEATABLE_KINDS]
    return converge.plan(conn, diffs, reference), drift.findings_of(unrepaired)


def _lockable(conn: psycopg.Connection, effects: list) -> dict[str, str]:
    """{table: mode} to lock up front: the tables that exist and that this role may lock
    explicitly (a foreign key to auth.users needs only REFERENCES there; its statement takes
    that lock itself, under the same budget)."""
    tables = {t for e in effects for t in e.tables}
    lockable = {
        t
        for t in tables
        if exists(conn, "select to_regclass(%s)", t)
        and conn.execute("select has_table_privilege(%s, 'update, delete, truncate')", [t]).fetchone()[0]
    }
    return lock_plan(effects, lockable)


def _run_file(conn: psycopg.Connection, file, lock: LockPolicy, report: ApplyReport) -> None:
    """A stand-in or seed file: one guarded transaction with its ledger row."""
    effects = [e for e in classify_script(file.text) if not (e.transactional and _noop(conn, e.statement))]

    def body(c: psycopg.Connection) -> None:
        run_script(c, file.name, file.text, skip=_noop)
        record_file(c, file.name, file.checksum)

    run_guarded(conn, file.name, _lockable(conn, effects), body, lock)
    report.applied.append(file.name)


def _run_migration(conn: psycopg.Connection, w: _MigrationWork, lock: LockPolicy, report: ApplyReport) -> None:
    locks = _lockable(conn, w.step.effects)
    skipped: list[str] = []
    deferred = set(w.deferred)

    def body(c: psycopg.Connection) -> None:
        skipped.clear()
        skipped.extend(
            run_script(c, w.migration.label, w.migration.text, skip=lambda cc, s: s in deferred or _noop(cc, s))
        )
        record_migration(c, w.migration)
        concurrent.record(c, w.migration.version, w.deferred)

    run_guarded(conn, f"migration {w.migration.label}", locks, body, lock)
    report.applied.append(w.migration.label)
    report.skipped += [s for s in skipped if s not in deferred]
    for s in concurrent.pending(conn):
        if s.version == w.migration.version:
            report.concurrent.append(f"{w.migration.label} step {s.ordinal}: {concurrent.run_step(conn, s)}")
