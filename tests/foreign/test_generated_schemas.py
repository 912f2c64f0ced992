"""Hypothesis writes small foreign schemas (a parent with or without timestamps, children by
single or composite foreign keys, child unique keys full or partial, an upsert whose arbiter
is missing, in SQL or plpgsql) and fills them with duplicates. Doctor never exits 2 on them,
and ``--fix`` either repairs with zero rows lost (every child row still owned by the same
user) or changes nothing at all and says why."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import psycopg
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from harness.doctor.command import Options, doctor

EXAMPLES = int(os.environ.get("COACHDB_GENERATED_EXAMPLES") or (100 if os.environ.get("CI") else 30))
_names = itertools.count(1)


@dataclass(frozen=True)
class Child:
    composite: bool  # (parent_id, owner) -> parent (id, owner), else parent_id -> parent (id)
    unique: str  # "", "full": unique (parent_id, slot), "partial": unique (parent_id) where flag
    rows: tuple[tuple[int, int, bool], ...]  # (parent row index, slot, flag)


@dataclass(frozen=True)
class Schema:
    timestamps: tuple[str, ...]  # of updated_at, created_at
    language: str
    parents: tuple[tuple[int, int], ...]  # (owner, age in days)
    children: tuple[Child, ...]


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    parents = draw(st.lists(st.tuples(st.integers(1, 3), st.integers(0, 3)), min_size=2, max_size=8))
    children = []
    for _ in range(draw(st.integers(0, 2))):
        rows = draw(st.lists(st.tuples(st.integers(0, len(parents) - 1), st.integers(1, 2), st.booleans()), max_size=8))
        children.append(Child(draw(st.booleans()), draw(st.sampled_from(["", "full", "partial"])), tuple(rows)))
    return Schema(
        tuple(draw(st.sampled_from([(), ("created_at",), ("updated_at",), ("updated_at", "created_at")]))),
        draw(st.sampled_from(["sql", "plpgsql"])),
        tuple(parents),
        tuple(children),
    )


def ddl(schema: str, s: Schema) -> list[str]:
    stamps = "".join(f", {c} timestamptz" for c in s.timestamps)
    statements = [
        f"create schema {schema}",
        f"create table {schema}.parent (id bigint primary key, owner int not null, label text{stamps},"
        " constraint parent_id_owner_key unique (id, owner))",
    ]
    body = f"insert into {schema}.parent (id, owner, label) values (p_id, p_owner, 'x') on conflict (owner) do nothing"
    if s.language == "sql":
        statements.append(
            f"create function {schema}.upsert(p_id bigint, p_owner int) returns void language sql as $$ {body} $$"
        )
    else:
        statements.append(
            f"create function {schema}.upsert(p_id bigint, p_owner int) returns void language plpgsql"
            f" as $$\nbegin\n  {body};\nend\n$$"
        )
    for n, child in enumerate(s.children):
        ref = (
            f"foreign key (parent_id, owner) references {schema}.parent (id, owner)"
            if child.composite
            else f"foreign key (parent_id) references {schema}.parent (id)"
        )
        statements.append(
            f"create table {schema}.child{n} (id bigint primary key, parent_id bigint not null, owner int not null,"
            f" slot int not null, flag boolean not null, {ref})"
        )
        if child.unique == "full":
            statements.append(
                f"alter table {schema}.child{n} add constraint child{n}_slot_key unique (parent_id, slot)"
            )
        elif child.unique == "partial":
            statements.append(f"create unique index child{n}_flag_key on {schema}.child{n} (parent_id) where flag")
    return statements


def load(conn: psycopg.Connection, schema: str, s: Schema) -> None:
    """The data, as it would be in the wild: the children's own keys hold (a drawn row that
    would break one is simply not there)."""
    for statement in ddl(schema, s):
        conn.execute(statement.encode())
    for i, (owner, age) in enumerate(s.parents):
        stamps = {c: f"now() - interval '{age} days'" for c in s.timestamps}
        cols = "".join(f", {c}" for c in stamps)
        values = "".join(f", {v}" for v in stamps.values())
        conn.execute(
            f"insert into {schema}.parent (id, owner, label{cols}) values ({i + 1}, {owner}, 'p{i}'{values})".encode()
        )
    for n, child in enumerate(s.children):
        for j, (parent, slot, flag) in enumerate(child.rows):
            try:
                with conn.transaction():
                    conn.execute(
                        f"insert into {schema}.child{n} values (%s, %s, %s, %s, %s)".encode(),
                        [j + 1, parent + 1, s.parents[parent][0], slot, flag],
                    )
            except psycopg.errors.UniqueViolation:
                pass  # the child's key already holds this row


def snapshot(conn: psycopg.Connection, schema: str, s: Schema) -> dict[str, set]:
    rows = {"parent": set(conn.execute(f"select id, owner from {schema}.parent".encode()).fetchall())}
    for n in range(len(s.children)):
        # each child row and the owner of the parent it points at
        rows[f"child{n}"] = set(
            conn.execute(
                f"select c.id, c.slot, c.flag, p.owner from {schema}.child{n} c join {schema}.parent p"
                f" on p.id = c.parent_id".encode()
            ).fetchall()
        )
    return rows


@pytest.fixture(scope="module")
def generated_db(databases):
    url = databases.create_empty(f"coachdb_generated_{os.getpid()}")
    yield url
    databases.drop(url)


@settings(max_examples=EXAMPLES)
@given(s=schemas())
def test_doctor_never_exits_2_and_fix_repairs_or_changes_nothing(generated_db, s):
    schema = f"gen{next(_names)}"
    with psycopg.connect(generated_db, autocommit=True) as conn:
        load(conn, schema, s)
        try:
            before = snapshot(conn, schema, s)
            duplicated = len(s.parents) - len({owner for owner, _ in s.parents})

            report = doctor(generated_db, Options(with_drift=False))
            assert report.exit_code == 1, report.error
            bugs = [f for f in report.findings if f.name == "on_conflict_without_arbiter"]
            assert [f.object.rpartition(", line ")[0] for f in bugs] == [f"{schema}.upsert(bigint,integer)"]

            fixed = doctor(generated_db, Options(fix=True, with_drift=False))
            assert fixed.exit_code != 2, fixed.error
            after = snapshot(conn, schema, s)
            refused = [f for f in fixed.findings if f.name == "repair_refused"]
            event("refused (a child key would break)" if refused else f"repaired ({duplicated} merged)")
            if refused:  # changed nothing, and said why
                assert after == before
                assert all("nothing was changed" in f.detail or "rolled back" in f.detail for f in refused)
                assert [f for f in fixed.findings if f.name == "on_conflict_without_arbiter"]
            else:  # repaired: the key is there, children kept with their owners, merged rows audited
                assert not [f for f in fixed.findings if f.name == "on_conflict_without_arbiter"]
                assert {k: v for k, v in after.items() if k != "parent"} == {
                    k: v for k, v in before.items() if k != "parent"
                }
                merged = conn.execute(
                    "select (row_data ->> 'id')::bigint, (row_data ->> 'owner')::int from coachdb_meta.merged_rows"
                    " where table_name = %s and action = 'merged'",
                    [f"{schema}.parent"],
                ).fetchall()
                assert len(merged) == duplicated
                assert after["parent"] | set(merged) == before["parent"]
                assert len({owner for _, owner in after["parent"]}) == len(after["parent"])
        finally:
            conn.execute(f"drop schema {schema} cascade".encode())
