"""Put the repeatable objects of a live database back as the SQL tree has them.

Doctor's drift engine (``harness.doctor.drift.differences``) decides what differs; this
module turns each difference into the targeted statements that undo it, and nothing else:
a dropped policy is created again from the tree's definition, a changed one dropped and
created, a policy the tree does not have dropped; a missing grant granted and an extra one
revoked (tables, columns, functions, ``app_private``); a replaced function (body, settings
such as ``search_path``) recreated with the tree's ``create or replace``; a dropped trigger
created; an RLS flag set; a comment written. Objects that are not there by the tree's
design (an extra table, column, index, function or trigger) are left alone, and so is the
schema itself (tables, columns, constraints, indexes): that needs a migration.

The statements are grouped so that no transaction touches two tables: one transaction per
function, per table, per schema, each run by ``harness.guard`` under the lock budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from harness.doctor.drift import REPEATABLE_KINDS, Difference, Snapshot, function_acl
from harness.errors import LoaderError
from harness.guard import LockPolicy, run_guarded
from harness.locks import classify, strongest


@dataclass
class Repair:
    """One transaction's worth of convergence: all of it is about ``scope``."""

    scope: str  # "table public.plans", "function public.x(uuid)", "schema app_private"
    statements: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)  # what each difference was, for the report
    #: a function created afresh gets the privileges of a new function (EXECUTE to PUBLIC,
    #: and whatever default privileges add); its privileges are set to the tree's in the
    #: same transaction, so it is never executable by anyone else in between
    privileges: str | None = None

    @property
    def table(self) -> str | None:
        kind, _, name = self.scope.partition(" ")
        return name if kind == "table" else None

    def locks(self) -> dict[str, str]:
        """The lock this transaction takes on its table (strongest of its statements)."""
        if self.table is None:
            return {}
        mode = strongest([classify(s).lock for s in self.statements])
        return {self.table: mode} if mode else {}


def _tokens(value: str | None) -> set[str]:
    return {t for t in (value or "").split(", ") if t and not t.startswith("owner:")}


def _grant_sql(conn: psycopg.Connection, name: str, token: str, grant: bool) -> str:
    what, _, obj = name.partition(" ")
    grantee, _, privilege = token.partition(":")
    option = privilege.endswith("*")
    privilege = privilege.rstrip("*")
    if what == "column":
        table, _, column = obj.rpartition(".")
        target = sql.SQL("{} ({}) on table {}").format(sql.SQL(privilege), sql.SQL(column), sql.SQL(table))
    else:
        target = sql.SQL("{} on {} {}").format(sql.SQL(privilege), sql.SQL(what), sql.SQL(obj))
    who = sql.SQL("public") if grantee == "public" else sql.Identifier(grantee)
    if grant:
        statement = sql.SQL("grant {} to {}{}").format(target, who, sql.SQL(" with grant option" if option else ""))
    else:
        statement = sql.SQL("revoke {} from {}").format(target, who)
    return statement.as_string(conn)


def _scope(d: Difference) -> str:
    if d.kind == "function":
        return f"function {d.name}"
    if d.kind in ("grant", "comment"):
        what, _, obj = d.name.partition(" ")
        if what == "column":
            return f"table {obj.rsplit('.', 1)[0]}"
        return d.name
    if d.kind == "policy":
        return f"table {d.name.partition(': ')[0]}"
    if d.kind == "trigger":
        return f"table {d.name.rsplit('.', 1)[0]}"
    return f"table {d.name}"  # rls


def _statements(conn: psycopg.Connection, d: Difference) -> tuple[list[str], str]:
    """The statements that undo one difference, and a line for the report."""
    if d.kind == "function":
        return [d.definition or ""], f"function {d.name}: {d.change}, recreated from the tree"
    if d.kind == "rls":
        statements = []
        table = d.name
        for flag, on, off in (("enabled", "enable", "disable"), ("forced", "force", "no force")):
            want, have = flag in (d.tree or ""), flag in (d.live or "")
            if want != have:
                statements.append(f"alter table {table} {on if want else off} row level security")
        return statements, f"row level security on {table}: {d.live or 'absent'} -> {d.tree}"
    if d.kind == "policy":
        table, _, policy = d.name.partition(": ")
        drop = sql.SQL("drop policy if exists {} on {}").format(sql.Identifier(policy), sql.SQL(table)).as_string(conn)
        if d.change == "extra":
            return [drop], f"policy {d.name}: not in the tree, dropped"
        create = [d.definition or ""]
        return ([drop] if d.change == "changed" else []) + create, f"policy {d.name}: {d.change}, restored"
    if d.kind == "trigger":
        table, _, trigger = d.name.rpartition(".")
        drop = f"drop trigger if exists {trigger} on {table}"
        return ([drop] if d.change == "changed" else []) + [
            d.definition or ""
        ], f"trigger {d.name}: {d.change}, restored"
    if d.kind == "grant":
        want, have = _tokens(d.tree), _tokens(d.live)
        revokes = [_grant_sql(conn, d.name, t, grant=False) for t in sorted(have - want)]
        # a privilege that only changed its grant option is revoked above, granted again here
        grants = [_grant_sql(conn, d.name, t, grant=True) for t in sorted(want - have)]
        parts = [
            f"revoked {', '.join(sorted(have - want))}" if have - want else "",
            f"granted {', '.join(sorted(want - have))}" if want - have else "",
        ]
        return revokes + grants, f"privileges on {d.name}: {'; '.join(p for p in parts if p)}"
    if d.kind == "comment":
        if d.change == "extra":
            what, _, obj = d.name.partition(" ")
            return [f"comment on {what} {obj} is null"], f"comment on {d.name}: not in the tree, removed"
        return [d.definition or ""], f"comment on {d.name}: {d.change}, restored"
    raise ValueError(f"not a repeatable kind: {d.kind}")


def plan(conn: psycopg.Connection, diffs: list[Difference], reference: Snapshot) -> list[Repair]:
    """The repairs for every ERROR-level difference of a repeatable kind, one per scope:
    schemas first, then functions (policies and triggers call them), then tables. (Drift
    leaves out what belongs to a table or column the live database lacks: that is schema
    drift, never converged.)"""
    repairs: dict[str, Repair] = {}
    for d in diffs:
        if d.kind not in REPEATABLE_KINDS or d.level != "ERROR":
            continue
        statements, line = _statements(conn, d)
        repair = repairs.setdefault(_scope(d), Repair(_scope(d)))
        if d.kind == "function" and d.change == "missing":  # its privileges and comment come with it
            repair.privileges = reference.values["grant"].get(f"function {d.name}", "")
            comment = reference.definitions["comment"].get(f"function {d.name}")
            statements += [comment] if comment else []
        repair.statements += [s for s in statements if s]
        repair.repairs.append(line)
    order = {"schema": 0, "function": 1, "table": 2}
    for repair in repairs.values():  # within a scope: functions before their grants and comments
        repair.statements.sort(key=lambda s: 0 if s.lower().startswith(("create or replace", "drop")) else 1)
    return sorted(repairs.values(), key=lambda r: (order.get(r.scope.partition(" ")[0], 3), r.scope))


def run(conn: psycopg.Connection, repairs: list[Repair], policy: LockPolicy) -> list[str]:
    """Run each repair in its own guarded transaction; the report lines of what was done."""
    done = []
    for repair in repairs:

        def body(
            c: psycopg.Connection,
            statements: list[str] = repair.statements,
            scope: str = repair.scope,
            privileges: str | None = repair.privileges,
        ) -> None:
            for statement in statements:
                try:
                    c.execute(statement.encode())
                except psycopg.errors.LockNotAvailable:
                    raise
                except psycopg.Error as exc:
                    first = statement.strip().splitlines()[0]
                    raise LoaderError(
                        f"converge {scope}: {exc.diag.message_primary or exc} [SQLSTATE {exc.sqlstate}] "
                        f"in: {first}; nothing of this step was applied"
                    ) from exc
            if privileges is not None:
                name = scope  # "function <signature>", as the snapshot names its privileges
                want, have = _tokens(privileges), _tokens(function_acl(c, scope.partition(" ")[2]))
                for token in sorted(have - want):
                    c.execute(_grant_sql(c, name, token, grant=False).encode())
                for token in sorted(want - have):
                    c.execute(_grant_sql(c, name, token, grant=True).encode())

        run_guarded(conn, f"converge {repair.scope}", repair.locks(), body, policy)
        done += repair.repairs
    return done
