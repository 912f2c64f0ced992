"""Live repair of the unique keys the SQL tree declares and a database lacks, without
losing a row and without holding a long lock:

1. one short transaction merges the duplicates that block the key: per key value it keeps
   the most recently updated row (ties: the greatest primary key), re-points every child
   row that references a merged-away row to the kept one, copies every merged-away row and
   every re-pointed child row in full into ``coachdb_meta.merged_rows``, then deletes the
   merged-away rows;
2. ``create unique index concurrently`` builds the index without blocking writes (an
   invalid index left by an interrupted build is dropped first);
3. ``alter table ... add constraint ... using index`` turns it into the named constraint.

Every statement is set-based and data-independent, so ``--dry-run`` prints exactly what
runs. Rerunning is safe at any point: a present key is skipped; a half-built index is
dropped and rebuilt; a merge either committed or left nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from harness import SQL_ROOT
from harness.doctor.declared import UniqueKey, declared_unique_keys
from harness.doctor.duplicates import is_present

AUDIT_DDL = """create table if not exists coachdb_meta.merged_rows (
    id bigint generated always as identity primary key,
    table_name text not null,
    constraint_name text not null,
    action text not null check (action in ('merged', 'repointed')),
    kept jsonb,
    row_data jsonb not null,
    merged_at timestamptz not null default now()
)"""


@dataclass
class Repair:
    key: UniqueKey
    statements: list[str] = field(default_factory=list)  # run in order; the merge is one transaction
    concurrent: list[str] = field(default_factory=list)  # outside any transaction


def _q(conn: psycopg.Connection, composable: sql.Composable) -> str:
    return composable.as_string(conn)


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


def _children(conn: psycopg.Connection, table: str) -> list[tuple[str, list[str], list[str]]]:
    """(child table, its columns, the parent columns they reference) for every foreign key."""
    return [
        (child, list(cols), list(parent_cols))
        for child, cols, parent_cols in conn.execute(
            "select format('%%s.%%s', c.relnamespace::regnamespace, c.relname),"
            " array(select a.attname::text from unnest(k.conkey) with ordinality c(n, o)"
            "       join pg_attribute a on a.attrelid = k.conrelid and a.attnum = c.n order by c.o),"
            " array(select a.attname::text from unnest(k.confkey) with ordinality c(n, o)"
            "       join pg_attribute a on a.attrelid = k.confrelid and a.attnum = c.n order by c.o)"
            " from pg_constraint k join pg_class c on c.oid = k.conrelid"
            " where k.contype = 'f' and k.confrelid = to_regclass(%s)",
            [table],
        ).fetchall()
    ]


def _merge_sql(conn: psycopg.Connection, key: UniqueKey) -> list[str]:
    schema, name = key.table.split(".", 1)
    table = sql.Identifier(schema, name)
    pk = _primary_key(conn, key.table)
    has_updated_at = conn.execute(
        "select 1 from pg_attribute where attrelid = to_regclass(%s) and attname = 'updated_at'", [key.table]
    ).fetchone()
    order = sql.SQL(", ").join(
        ([sql.SQL("t.updated_at desc nulls last")] if has_updated_at else [])
        + [sql.SQL("t.{} desc").format(sql.Identifier(c)) for c in pk]
    )
    partition = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in key.columns)
    # only rows that share a key: NULLs never collide under a unique constraint
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in key.columns)
    conditions = [sql.SQL("t.{} is not null").format(sql.Identifier(c)) for c in key.columns]
    if key.predicate:
        conditions.append(sql.SQL("(" + key.predicate + ")"))
    conditions.append(
        sql.SQL("({}) in (select {} from {} as d{} group by {} having count(*) > 1)").format(
            partition,
            cols,
            table,
            sql.SQL(" where " + key.predicate) if key.predicate else sql.SQL(""),
            cols,
        )
    )
    where = sql.SQL(" where ") + sql.SQL(" and ").join(conditions)
    # every column a child may reference: the primary key and any referenced columns
    referenced = list(dict.fromkeys(pk + [c for _, _, parent in _children(conn, key.table) for c in parent]))
    pairs = sql.SQL(", ").join(
        sql.SQL("t.{0} as {1}, first_value(t.{0}) over w as {2}").format(
            sql.Identifier(c), sql.Identifier(f"loser_{c}"), sql.Identifier(f"keeper_{c}")
        )
        for c in referenced
    )
    statements = [
        "begin",
        AUDIT_DDL,
        _q(conn, sql.SQL("lock table {} in share row exclusive mode").format(table)),
        _q(
            conn,
            sql.SQL(
                "create temporary table coachdb_merge on commit drop as"
                " select * from (select {pairs}, row_number() over w as rn, to_jsonb(t) as row_data"
                " from {table} as t{where} window w as (partition by {partition} order by {order})) as ranked"
                " where rn > 1"
            ).format(pairs=pairs, table=table, where=where, partition=partition, order=order),
        ),
    ]
    for child, cols, parent_cols in _children(conn, key.table):
        child_table = sql.Identifier(*child.split(".", 1))
        match = sql.SQL(" and ").join(
            sql.SQL("c.{} = m.{}").format(sql.Identifier(col), sql.Identifier(f"loser_{p}"))
            for col, p in zip(cols, parent_cols, strict=True)
        )
        statements.append(
            _q(
                conn,
                sql.SQL(
                    "insert into coachdb_meta.merged_rows (table_name, constraint_name, action, kept, row_data)"
                    " select {child}, {name}, 'repointed', to_jsonb(m) - 'row_data', to_jsonb(c)"
                    " from {child_table} as c join coachdb_merge as m on {match}"
                ).format(child=sql.Literal(child), name=sql.Literal(key.name), child_table=child_table, match=match),
            )
        )
        sets = sql.SQL(", ").join(
            sql.SQL("{} = m.{}").format(sql.Identifier(col), sql.Identifier(f"keeper_{p}"))
            for col, p in zip(cols, parent_cols, strict=True)
        )
        statements.append(
            _q(
                conn,
                sql.SQL("update {child_table} as c set {sets} from coachdb_merge as m where {match}").format(
                    child_table=child_table, sets=sets, match=match
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


def plan_repairs(conn: psycopg.Connection, root: Path = SQL_ROOT) -> list[Repair]:
    """A repair for every unique key of the tree that the live database lacks."""
    repairs = []
    for key in declared_unique_keys(root):
        if conn.execute("select to_regclass(%s)", [key.table]).fetchone()[0] is None or is_present(conn, key):
            continue
        schema, name = key.table.split(".", 1)
        table = sql.Identifier(schema, name)
        index = sql.Identifier(key.name)
        repair = Repair(key, statements=_merge_sql(conn, key))
        invalid = conn.execute(
            "select 1 from pg_index i join pg_class c on c.oid = i.indexrelid"
            " where c.relname = %s and c.relnamespace = %s::regnamespace and not i.indisvalid",
            [key.name, schema],
        ).fetchone()
        if invalid:
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
            kind = "primary key" if key.name.endswith("_pkey") else "unique"
            repair.concurrent.append(
                _q(
                    conn,
                    sql.SQL("alter table {} add constraint {} " + kind + " using index {}").format(table, index, index),
                )
            )
        repairs.append(repair)
    return repairs


def run_repairs(url: str, *, root: Path = SQL_ROOT, dry_run: bool = False, out: Callable[[str], None] = print) -> int:
    """Plan and (unless ``dry_run``) run every repair; prints each statement; returns how many."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists coachdb_meta")
        repairs = plan_repairs(conn, root)
        for repair in repairs:
            out(f"-- restore {repair.key.name} on {repair.key.table} ({', '.join(repair.key.columns)})")
            for statement in [*repair.statements, *repair.concurrent]:
                out(statement + ";")
                if not dry_run:
                    conn.execute(statement.encode())
    return len(repairs)
