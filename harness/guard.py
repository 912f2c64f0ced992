"""Run one step of ``apply`` as a transaction that never makes the API wait long.

A DDL statement on a live table queues for its lock, and every request that arrives after it
queues behind it, for as long as it waits and then for as long as the transaction holds the
lock. So a step:

1. takes the locks it needs first, table by table in a fixed (sorted) order: the first
   under the whole budget (it holds nothing while it waits), every further one under a short
   ``lock_timeout`` (a twentieth of the budget: enough for the reads in flight to finish, as
   they take milliseconds), so it never waits long for one table while it holds another; a
   pure ``nowait`` would almost never find every busy table idle at one instant;
2. runs its statements under ``lock_timeout`` = what is left of the same budget, so the
   whole transaction waits at most ``timeout`` for locks, in total;
3. on a lock timeout rolls back (nothing of the step stays), pauses with a growing,
   jittered backoff, and tries again; after ``retries`` retries it fails, naming the table,
   the lock and the session that held it.

A request therefore waits behind ``apply`` at most the lock budget plus the time the step's
statements take to run (catalog changes: milliseconds).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from harness.errors import HarnessError
from harness.locks import LOCK_TABLE_MODE, MODES


class LockTimeoutError(HarnessError):
    """A step could not get its locks within the budget, after every retry."""


@dataclass(frozen=True)
class LockPolicy:
    """``timeout``: seconds a step may wait for locks in total, per attempt (what a request
    can wait behind it); ``retries``: further attempts after the first; ``backoff``: the
    first pause between attempts (it doubles, with jitter)."""

    timeout: float = 2.0
    retries: int = 5
    backoff: float = 0.25


#: While a step holds one table, it waits for the next at most this share of its budget.
SHORT_WAIT_SHARE = 20


def _lock_timeout(conn: psycopg.Connection, seconds: float) -> None:
    """``set local lock_timeout``; at least 1 ms (0 would mean "wait forever")."""
    conn.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(f"{max(int(seconds * 1000), 1)}ms")))


def holders(conn: psycopg.Connection, table: str) -> str:
    """Who holds a lock on ``table`` now: ``pid 123 (AccessShareLock, role app, idle in
    transaction for 6 s, application psql)``. Never the session's query text: it may hold a
    secret."""
    rows = conn.execute(
        "select l.pid, l.mode, coalesce(a.usename::text, '?'), coalesce(a.state, '?'),"
        " coalesce(extract(epoch from now() - a.xact_start)::int, 0), coalesce(a.application_name, '')"
        " from pg_locks l left join pg_stat_activity a on a.pid = l.pid"
        " where l.locktype = 'relation' and l.granted and l.relation = to_regclass(%s) and l.pid <> pg_backend_pid()",
        [table],
    ).fetchall()
    return (
        ", ".join(
            f"pid {pid} ({mode}, role {role}, {state} for {age} s" + (f", application {app})" if app else ")")
            for pid, mode, role, state, age, app in rows
        )
        or "none now"
    )


def run_guarded(
    conn: psycopg.Connection,
    step: str,
    locks: dict[str, str],
    body: Callable[[psycopg.Connection], None],
    policy: LockPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run ``body`` in one transaction after taking ``locks`` ({table: mode}) as the module
    docstring says; returns how many attempts it took. ``conn`` must be in autocommit mode."""
    order = sorted(locks)
    failed: tuple[str, str] | None = None
    for attempt in range(policy.retries + 1):
        if attempt:
            sleep(policy.backoff * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
        started = time.monotonic()
        current: tuple[str, str] | None = None
        try:
            with conn.transaction():
                for i, table in enumerate(order):
                    left = policy.timeout - (time.monotonic() - started)
                    wait = left if i == 0 else min(left, policy.timeout / SHORT_WAIT_SHARE)
                    current = (table, locks[table])
                    _lock_timeout(conn, wait)
                    conn.execute(
                        sql.SQL("lock table {} in {} mode").format(
                            sql.Identifier(*table.split(".", 1)), sql.SQL(LOCK_TABLE_MODE[locks[table]])
                        )
                    )
                current = None
                _lock_timeout(conn, policy.timeout - (time.monotonic() - started))
                body(conn)
            return attempt + 1
        except psycopg.errors.LockNotAvailable:
            failed = current or ("a table the step touches", "a lock")
            continue
    table, mode = failed or ("?", "?")
    held_by = holders(conn, table) if table in locks else "unknown"
    raise LockTimeoutError(
        f"{step}: could not take {mode} on {table} within {policy.timeout:g} s in {policy.retries + 1} attempts "
        f"(held by: {held_by}); nothing of this step was applied; rerun apply when the table is free, "
        f"or raise --lock-timeout"
    )


def lock_plan(effects: list, existing: set[str]) -> dict[str, str]:
    """{table: strongest mode} over the effects (``harness.locks.Effect``) for the tables that
    exist now (a table created in the same step needs no lock taken in advance)."""
    wanted: dict[str, str] = {}
    for effect in effects:
        if not effect.lock or not effect.transactional:
            continue
        for table in effect.tables:
            if table in existing:
                old = wanted.get(table)
                wanted[table] = effect.lock if old is None else max(old, effect.lock, key=MODES.index)
    return wanted
