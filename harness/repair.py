"""Live repair of missing unique keys, without losing a row and without holding a long lock.

Which keys: on a coachdb database, those the SQL tree declares and the live table lacks; on
any database, those the ``ON CONFLICT`` targets of its functions need and lack (named
``<table>_<columns>_unique``), derived from the live catalog alone. Each repair:

1. checks first, reading only, that re-pointing children cannot break a unique key (partial
   ones included) of a child table, nor a foreign key that leads on from a child; where it
   would, nothing is changed and an ERROR names the child's key and the colliding rows;
2. one short transaction merges the duplicates that block the key: per key value it keeps
   the most recently updated row (``updated_at``, else ``created_at``, then the greatest
   primary key), re-points every child row of every foreign key (single or multi-column)
   from a merged-away row to the kept one, copies every merged-away row and every re-pointed
   child row in full into ``coachdb_meta.merged_rows``, then deletes the merged-away rows;
   a child's exclusion constraint, or any other constraint, that still objects rolls the
   whole transaction back and is reported the same way;
3. ``create unique index concurrently`` builds the index without blocking writes (an
   invalid index left by an interrupted build is dropped first);
4. ``alter table ... add constraint ... using index`` turns it into the named constraint.

Every statement is set-based and data-independent, so ``--dry-run`` prints exactly what
runs, and changes nothing (not even the audit schema). Rerunning is safe at any point: a
present key is skipped; a built index without its constraint gets the constraint; a
half-built index is dropped and rebuilt; a merge either committed or left nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from harness import SQL_ROOT
from harness.doctor import arbiters
from harness.doctor.declared import UniqueKey, declared_unique_keys
from harness.doctor.duplicates import has_columns, is_present
from harness.doctor.findings import Finding
from harness.doctor.lints import app_schemas
from harness.doctor.mode import GENERIC, TREE
from harness.errors import HarnessError

AUDIT_DDL = """create table if not exists coachdb_meta.merged_rows (
    id bigint generated always as identity primary key,
    table_name text not null,
    constraint_name text not null,
    action text not null check (action in ('merged', 'repointed')),
    kept jsonb,
    row_data jsonb not null,
    merged_at timestamptz not null default now()
)"""

#: How long the merge may wait for a lock before it gives up (and says to rerun).
LOCK_TIMEOUT = "5s"
REFUSED = "repair_refused"


@dataclass
class Repair:
    key: UniqueKey
    why: str  # who needs the key: a tree file, or a function and line
    statements: list[str] = field(default_factory=list)  # the merge: one transaction, begin ... commit
    concurrent: list[str] = field(default_factory=list)  # each on its own, outside any transaction
    refused: list[Finding] = field(default_factory=list)  # non-empty: nothing of this repair runs

    @property
    def steps(self) -> list[str]:
        return [*self.statements, *self.concurrent]


@dataclass
class Outcome:
    """What a run of the repairs did: ``problems`` are ERROR findings (refusals, failures)."""

    repairs: list[Repair] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # one line per completed repair
    problems: list[Finding] = field(default_factory=list)


def _q(conn: psycopg.Connection, composable: sql.Composable) -> str:
    return composable.as_string(conn)


def _ident(table: str) -> sql.Identifier:
    return sql.Identifier(*table.split(".", 1))


def _primary_key(conn: psycopg.Connection, table: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select a.attname::text from pg_index i join unnest(i.indkey) with ordinality k(attnum, ord) on true"
            " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum"
            " where i.indrelid = to_regclass(%s) and i.indisprimary order by k.ord",
            [table],
        ).fetchall()
    ]


FOREIGN_KEYS = """
select format('%%s.%%s', c.relnamespace::regnamespace, c.relname), k.conname::text,
       array(select a.attname::text from unnest(k.conkey) with ordinality c(n, o)
             join pg_attribute a on a.attrelid = k.conrelid and a.attnum = c.n order by c.o),
       array(select a.attname::text from unnest(k.confkey) with ordinality c(n, o)
             join pg_attribute a on a.attrelid = k.confrelid and a.attnum = c.n order by c.o),
       k.confupdtype::text
from pg_constraint k join pg_class c on c.oid = k.conrelid
where k.contype = 'f' and k.confrelid = to_regclass(%s)
order by 1, 2
"""


@dataclass(frozen=True)
class ForeignKey:
    child: str  # schema.table
    name: str
    columns: tuple[str, ...]  # the child's columns
    parent_columns: tuple[str, ...]  # the parent's columns they reference
    on_update: str  # confupdtype: a no action, r restrict, c cascade, n set null, d set default


def _children(conn: psycopg.Connection, table: str) -> list[ForeignKey]:
    """Every foreign key that references ``table``."""
    return [
        ForeignKey(child, name, tuple(cols), tuple(parent), on_update)
        for child, name, cols, parent, on_update in conn.execute(FOREIGN_KEYS, [table]).fetchall()
    ]


def _survivor_order(conn: psycopg.Connection, table: str, pk: list[str]) -> sql.Composable:
    """Most recently updated first: updated_at, else created_at, then the greatest primary key."""
    present = {
        r[0]
        for r in conn.execute(
            "select attname::text from pg_attribute where attrelid = to_regclass(%s)"
            " and attname in ('updated_at', 'created_at') and not attisdropped",
            [table],
        ).fetchall()
    }
    order = [
        sql.SQL("t.{} desc nulls last").format(sql.Identifier(c)) for c in ("updated_at", "created_at") if c in present
    ]
    return sql.SQL(", ").join(order + [sql.SQL("t.{} desc").format(sql.Identifier(c)) for c in pk])


def _ranked(conn: psycopg.Connection, key: UniqueKey, pk: list[str], children: list[ForeignKey]) -> sql.Composable:
    """One row per merged-away row: ``loser_<col>``/``keeper_<col>`` for every column a child
    may reference (and the primary key), and the merged-away row in full as ``row_data``."""
    table = _ident(key.table)
    partition = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in key.columns)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in key.columns)
    # only rows that share a key: NULLs never collide under a unique key
    conditions = [sql.SQL("t.{} is not null").format(sql.Identifier(c)) for c in key.columns]
    if key.predicate:
        conditions.append(sql.SQL("(" + key.predicate + ")"))
    conditions.append(
        sql.SQL("({}) in (select {} from {} as d{} group by {} having count(*) > 1)").format(
            partition, cols, table, sql.SQL(" where " + key.predicate) if key.predicate else sql.SQL(""), cols
        )
    )
    referenced = list(dict.fromkeys(pk + [c for fk in children for c in fk.parent_columns]))
    pairs = sql.SQL(", ").join(
        sql.SQL("t.{0} as {1}, first_value(t.{0}) over w as {2}").format(
            sql.Identifier(c), sql.Identifier(f"loser_{c}"), sql.Identifier(f"keeper_{c}")
        )
        for c in referenced
    )
    return sql.SQL(
        "select * from (select {pairs}, row_number() over w as rn, to_jsonb(t) as row_data"
        " from {table} as t where {where} window w as (partition by {partition} order by {order})) as ranked"
        " where rn > 1"
    ).format(
        pairs=pairs,
        table=table,
        where=sql.SQL(" and ").join(conditions),
        partition=partition,
        order=_survivor_order(conn, key.table, pk),
    )


def _match(fk: ForeignKey, child: str = "c", merge: str = "m") -> sql.Composable:
    return sql.SQL(" and ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(child), sql.Identifier(col), sql.Identifier(merge), sql.Identifier(f"loser_{p}")
        )
        for col, p in zip(fk.columns, fk.parent_columns, strict=True)
    )


def _merge_sql(conn: psycopg.Connection, key: UniqueKey, pk: list[str], children: list[ForeignKey]) -> list[str]:
    table = _ident(key.table)
    locked = list(dict.fromkeys([key.table, *(fk.child for fk in children)]))
    statements = [
        "begin",
        f"set local lock_timeout = '{LOCK_TIMEOUT}'",
        "create schema if not exists coachdb_meta",
        AUDIT_DDL,
        _q(
            conn,
            sql.SQL("lock table {} in share row exclusive mode").format(sql.SQL(", ").join(_ident(t) for t in locked)),
        ),
        _q(
            conn,
            sql.SQL("create temporary table coachdb_merge on commit drop as {}").format(
                _ranked(conn, key, pk, children)
            ),
        ),
    ]
    for fk in children:
        child_table = _ident(fk.child)
        statements.append(
            _q(
                conn,
                sql.SQL(
                    "insert into coachdb_meta.merged_rows (table_name, constraint_name, action, kept, row_data)"
                    " select {child}, {name}, 'repointed', to_jsonb(m) - 'row_data', to_jsonb(c)"
                    " from {child_table} as c join coachdb_merge as m on {match}"
                ).format(
                    child=sql.Literal(fk.child), name=sql.Literal(key.name), child_table=child_table, match=_match(fk)
                ),
            )
        )
        sets = sql.SQL(", ").join(
            sql.SQL("{} = m.{}").format(sql.Identifier(col), sql.Identifier(f"keeper_{p}"))
            for col, p in zip(fk.columns, fk.parent_columns, strict=True)
        )
        statements.append(
            _q(
                conn,
                sql.SQL("update {child_table} as c set {sets} from coachdb_merge as m where {match}").format(
                    child_table=child_table, sets=sets, match=_match(fk)
                ),
            )
        )
    pk_match = sql.SQL(" and ").join(
        sql.SQL("t.{} = m.{}").format(sql.Identifier(c), sql.Identifier(f"loser_{c}")) for c in pk
    )
    keeper = sql.SQL("jsonb_build_object({})").format(
        sql.SQL(", ").join(sql.SQL("{}, m.{}").format(sql.Literal(c), sql.Identifier(f"keeper_{c}")) for c in pk)
    )
    statements += [
        _q(
            conn,
            sql.SQL(
                "insert into coachdb_meta.merged_rows (table_name, constraint_name, action, kept, row_data)"
                " select {table_name}, {name}, 'merged', {keeper}, m.row_data from coachdb_merge as m"
            ).format(table_name=sql.Literal(key.table), name=sql.Literal(key.name), keeper=keeper),
        ),
        _q(conn, sql.SQL("delete from {} as t using coachdb_merge as m where {}").format(table, pk_match)),
        "commit",
    ]
    return statements


# -- the read-only pre-checks ----------------------------------------------------------------

CHILD_UNIQUE = """
select coalesce(k.conname, x.relname)::text,
       array(select pg_get_indexdef(i.indexrelid, n, true) from generate_series(1, i.indnkeyatts) n),
       pg_get_expr(i.indpred, i.indrelid), i.indnullsnotdistinct
from pg_index i join pg_class x on x.oid = i.indexrelid
left join pg_constraint k on k.conindid = i.indexrelid and k.conrelid = i.indrelid
where i.indrelid = to_regclass(%s) and i.indisvalid
    and (i.indexprs is not null or i.indpred is not null or i.indkey::int2[] && %s::int2[])
    and (i.indisunique or (k.contype = 'x' and not exists (
        select from unnest(k.conexclop) o (opr) join pg_operator p on p.oid = o.opr where p.oprname <> '=')))
"""


def _attnums(conn: psycopg.Connection, table: str, columns: list[str]) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            "select attnum from pg_attribute where attrelid = to_regclass(%s) and attname = any(%s)", [table, columns]
        ).fetchall()
    ]


def _child_key_collisions(
    conn: psycopg.Connection, key: UniqueKey, ranked: sql.Composable, child: str, fks: list[ForeignKey]
) -> list[Finding]:
    """The child's rows as they would be after re-pointing, grouped by each of the child's
    unique keys (and exclusion constraints made only of ``=``, which are unique keys too) that
    a re-pointed column, an expression or a predicate touches: any group of two or more holding
    a re-pointed row is a collision the merge must not cause. Other exclusion constraints are
    checked by the merge itself, whose one transaction rolls back whole."""
    moved_columns = [c for fk in fks for c in fk.columns]
    columns = [
        r[0]
        for r in conn.execute(
            "select attname::text from pg_attribute where attrelid = to_regclass(%s) and attnum > 0"
            " and not attisdropped order by attnum",
            [child],
        ).fetchall()
    ]
    joins, moved = [], []
    projected: dict[str, sql.Composable] = {c: sql.SQL("c.{}").format(sql.Identifier(c)) for c in columns}
    for n, fk in enumerate(fks):
        alias = f"m{n}"
        joins.append(sql.SQL(" left join merge as {} on {}").format(sql.Identifier(alias), _match(fk, "c", alias)))
        first = sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(f"loser_{fk.parent_columns[0]}"))
        moved.append(sql.SQL("{} is not null").format(first))
        for col, p in zip(fk.columns, fk.parent_columns, strict=True):
            projected[col] = sql.SQL("case when {} is not null then {}.{} else {} end").format(
                first, sql.Identifier(alias), sql.Identifier(f"keeper_{p}"), projected[col]
            )
    after = sql.SQL(
        "select {cols}, to_jsonb(c) as coachdb_row, ({moved}) as coachdb_moved from {child} as c{joins}"
    ).format(
        cols=sql.SQL(", ").join(sql.SQL("{} as {}").format(v, sql.Identifier(c)) for c, v in projected.items()),
        moved=sql.SQL(" or ").join(moved),
        child=_ident(child),
        joins=sql.SQL("").join(joins),
    )
    findings = []
    for name, exprs, predicate, nulls_not_distinct in conn.execute(
        CHILD_UNIQUE, [child, _attnums(conn, child, moved_columns)]
    ).fetchall():
        group = sql.SQL(", ").join(sql.SQL("(" + e + ")") for e in exprs)
        conditions = [] if nulls_not_distinct else [sql.SQL("(" + e + ") is not null") for e in exprs]
        if predicate:
            conditions.append(sql.SQL("(" + predicate + ")"))
        query = sql.SQL(
            "with merge as ({ranked}), after as ({after})"
            " select jsonb_agg(coachdb_row) from after{where} group by {group}"
            " having count(*) > 1 and bool_or(coachdb_moved) limit 5"
        ).format(
            ranked=ranked,
            after=after,
            where=(sql.SQL(" where ") + sql.SQL(" and ").join(conditions)) if conditions else sql.SQL(""),
            group=group,
        )
        groups = [r[0] for r in conn.execute(query).fetchall()]
        if groups:
            findings.append(
                Finding(
                    REFUSED,
                    "ERROR",
                    f"{child}.{name}",
                    f"merging the duplicates of {key.table} ({', '.join(key.columns)}) would re-point {child} rows "
                    f"onto the kept rows and break {name}{' (where ' + predicate + ')' if predicate else ''}; "
                    f"nothing was changed; colliding rows: {'; '.join(str(g) for g in groups)}",
                    f"resolve those {child} rows (delete or change all but one of each group), then rerun "
                    "coachdb doctor --fix",
                )
            )
    return findings


def _onward_keys(conn: psycopg.Connection, key: UniqueKey, children: list[ForeignKey]) -> list[Finding]:
    """A foreign key from a grandchild through a column that re-pointing changes, without
    ON UPDATE CASCADE, would dangle: refuse rather than break it."""
    findings = []
    for fk in children:
        # columns that map to the key's own columns keep their value: kept and merged rows share it
        changed = {col for col, p in zip(fk.columns, fk.parent_columns, strict=True) if p not in key.columns}
        for onward in _children(conn, fk.child):
            if onward.on_update != "c" and set(onward.parent_columns) & changed:
                findings.append(
                    Finding(
                        REFUSED,
                        "ERROR",
                        f"{onward.child}.{onward.name}",
                        f"merging the duplicates of {key.table} re-points {fk.child} ({', '.join(fk.columns)}), "
                        f"which {onward.child} references through {onward.name} without on update cascade; "
                        "nothing was changed",
                        f"make {onward.name} on update cascade (or merge those rows by hand), then rerun "
                        "coachdb doctor --fix",
                    )
                )
    return findings


def _precheck(conn: psycopg.Connection, key: UniqueKey, pk: list[str], children: list[ForeignKey]) -> list[Finding]:
    if not pk:
        return [
            Finding(
                REFUSED,
                "ERROR",
                key.table,
                f"{key.table} has no primary key, so doctor cannot tell its duplicate rows apart; nothing was changed",
                f"add a primary key to {key.table} (or merge its duplicates by hand), then rerun coachdb doctor --fix",
            )
        ]
    findings = _onward_keys(conn, key, children)
    ranked = _ranked(conn, key, pk, children)
    for child in dict.fromkeys(fk.child for fk in children):
        findings += _child_key_collisions(conn, key, ranked, child, [fk for fk in children if fk.child == child])
    return findings


# -- planning -----------------------------------------------------------------------------


def _index_state(conn: psycopg.Connection, key: UniqueKey) -> tuple[bool | None, bool]:
    """(is our named index valid: None when it does not exist, whether a constraint uses it)."""
    schema = key.table.split(".", 1)[0]
    row = conn.execute(
        "select i.indisvalid, exists (select from pg_constraint k where k.conindid = i.indexrelid)"
        " from pg_index i join pg_class c on c.oid = i.indexrelid"
        " where c.relname = %s and c.relnamespace = %s::regnamespace",
        [key.name, schema],
    ).fetchone()
    return (row[0], row[1]) if row else (None, False)


def _plan(conn: psycopg.Connection, key: UniqueKey, why: str) -> Repair | None:
    """The repair for one key, or None when nothing is left to do."""
    schema = key.table.split(".", 1)[0]
    table, index = _ident(key.table), sql.Identifier(key.name)
    valid, constrained = _index_state(conn, key)
    add_constraint = _q(
        conn,
        sql.SQL("alter table {} add constraint {} " + ("primary key" if key.name.endswith("_pkey") else "unique")
                + " using index {}").format(table, index, index),
    )  # fmt: skip
    if key.kind == "constraint" and valid and not constrained:
        return Repair(key, why, concurrent=[add_constraint])  # an interrupted run built the index: finish it
    if is_present(conn, key):
        return None
    pk, children = _primary_key(conn, key.table), _children(conn, key.table)
    repair = Repair(key, why, refused=_precheck(conn, key, pk, children))
    if repair.refused:
        return repair
    repair.statements = _merge_sql(conn, key, pk, children)
    if valid is not None:
        repair.concurrent.append(
            _q(conn, sql.SQL("drop index concurrently if exists {}").format(sql.Identifier(schema, key.name)))
        )
    where = sql.SQL(" where " + key.predicate) if key.predicate else sql.SQL("")
    repair.concurrent.append(
        _q(
            conn,
            sql.SQL("create unique index concurrently if not exists {} on {} ({}){}").format(
                index, table, sql.SQL(", ").join(sql.Identifier(c) for c in key.columns), where
            ),
        )
    )
    if key.kind == "constraint":
        repair.concurrent.append(add_constraint)
    return repair


def plan_repairs(conn: psycopg.Connection, root: Path = SQL_ROOT) -> list[Repair]:
    """A coachdb database: a repair for every unique key of the tree that the live database lacks."""
    repairs = []
    for key in declared_unique_keys(root):
        if has_columns(conn, key):
            repair = _plan(conn, key, f"declared in {key.file}")
            if repair:
                repairs.append(repair)
    return repairs


def plan_generic(conn: psycopg.Connection) -> list[Repair]:
    """Any database: a repair for every unique key an ON CONFLICT target needs and lacks,
    found in the functions of every schema that is not the system's."""
    keys: dict[UniqueKey, str] = {}
    for upsert in arbiters.upserts(conn, app_schemas(conn)):
        if upsert.columns and not upsert.constraint and not upsert.expression:
            keys.setdefault(upsert.key(), f"needed by {upsert.where}")
    return [r for key, why in keys.items() if (r := _plan(conn, key, why))]


# -- running --------------------------------------------------------------------------------


def _failed(repair: Repair, exc: psycopg.Error) -> Finding:
    diag = exc.diag
    where = f"{diag.schema_name}.{diag.table_name}.{diag.constraint_name}" if diag.constraint_name else repair.key.table
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        detail = f"could not take its locks within {LOCK_TIMEOUT} (the tables are busy); nothing was changed"
        remedy = "rerun coachdb doctor --fix when the load is lower"
    else:
        detail = (
            f"restoring {repair.key.name} on {repair.key.table} stopped at {diag.constraint_name or 'a statement'}: "
            f"{diag.message_primary}{'; ' + diag.message_detail if diag.message_detail else ''}; "
            "the step was rolled back"
        )
        remedy = "resolve the rows the detail names, then rerun coachdb doctor --fix (it resumes where it stopped)"
    return Finding(REFUSED, "ERROR", where, detail, remedy)


def run(
    url: str, *, mode: str, root: Path = SQL_ROOT, dry_run: bool = False, out: Callable[[str], None] = print
) -> Outcome:
    """Plan and (unless ``dry_run``) run every repair of ``mode``, printing each statement
    before it runs. A refused or failed repair is a problem, never an exception; a missing
    privilege is raised (psycopg.errors.InsufficientPrivilege), since doctor cannot go on."""
    outcome = Outcome()
    with psycopg.connect(url, autocommit=True, application_name="coachdb repair") as conn:
        outcome.repairs = plan_generic(conn) if mode == GENERIC else plan_repairs(conn, root)
        for repair in outcome.repairs:
            key = repair.key
            out(f"-- restore {key.name} on {key.table} ({', '.join(key.columns)}), {repair.why}")
            if repair.refused:
                out("-- refused: " + " | ".join(f.detail for f in repair.refused))
                outcome.problems += repair.refused
                continue
            audited = {"merged": 0, "repointed": 0}
            try:
                for statement in repair.steps:
                    out(statement + ";")
                    if dry_run:
                        continue
                    cursor = conn.execute(statement.encode())
                    if statement.startswith("insert into coachdb_meta.merged_rows"):
                        audited["repointed" if "'repointed'" in statement else "merged"] += max(cursor.rowcount, 0)
            except psycopg.errors.InsufficientPrivilege:
                raise
            except psycopg.Error as exc:
                if conn.broken:
                    raise  # the connection is gone (a killed backend): nothing more can run
                if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    conn.execute("rollback")
                outcome.problems.append(_failed(repair, exc))
                continue
            if not dry_run:
                outcome.done.append(
                    f"restored {key.name} on {key.table}: {audited['merged']} row(s) merged away, "
                    f"{audited['repointed']} child row(s) re-pointed, all kept in coachdb_meta.merged_rows"
                )
    return outcome


class RepairRefused(HarnessError):
    """A repair that would break a child's key, or failed and was rolled back."""


def run_repairs(url: str, *, root: Path = SQL_ROOT, dry_run: bool = False, out: Callable[[str], None] = print) -> int:
    """The tree's repairs (what ``coachdb apply`` runs after loading): how many were planned.
    A refused or failed one is raised as RepairRefused naming it (one line from the CLI)."""
    outcome = run(url, mode=TREE, root=root, dry_run=dry_run, out=out)
    if outcome.problems:
        raise RepairRefused("; ".join(f"{f.object}: {f.detail}" for f in outcome.problems))
    return len(outcome.repairs)
