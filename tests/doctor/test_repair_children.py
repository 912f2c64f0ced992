"""The merge re-points child rows: on a small tree of its own (a parent with a declared
unique key, a child referencing it), every child of a merged-away row ends up on the kept
row, and the audit holds both the merged row and the child's old version."""

from __future__ import annotations

import shutil

import psycopg
import pytest

from harness import ROOT
from harness.loader import apply
from harness.repair import run_repairs

SCHEMA = """
create table public.things (
    id bigint primary key,
    owner uuid not null,
    name text not null,
    updated_at timestamptz not null default now(),
    constraint things_owner_name_unique unique (owner, name)
);
create table public.parts (
    id bigint primary key,
    thing_id bigint not null references public.things (id),
    label text
);
"""


@pytest.fixture
def tree(tmp_path):
    shutil.copytree(ROOT / "db" / "standin", tmp_path / "db" / "standin")
    (tmp_path / "db" / "schema").mkdir(parents=True)
    (tmp_path / "db" / "schema" / "010_things.sql").write_text(SCHEMA)
    return tmp_path


@pytest.fixture
def broken(tree, databases):
    url = databases.create_empty("coachdb_repair_children")
    apply(url, root=tree)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("alter table public.things drop constraint things_owner_name_unique")
        conn.execute(
            "insert into public.things values"
            " (1, '00000000-0000-4000-8000-000000000001', 'bike', now() - interval '2 days'),"
            " (2, '00000000-0000-4000-8000-000000000001', 'bike', now()),"
            " (3, '00000000-0000-4000-8000-000000000001', 'shoes', now()),"
            " (4, '00000000-0000-4000-8000-000000000002', null, now())".replace("null", "'bike'")
        )
        conn.execute("insert into public.parts values (10, 1, 'old wheel'), (11, 2, 'new wheel'), (12, 3, 'laces')")
    yield url
    databases.drop("coachdb_repair_children")


def test_children_follow_the_kept_row_and_everything_is_audited(broken, tree):
    assert run_repairs(broken, root=tree, out=lambda _: None) == 1
    with psycopg.connect(broken) as conn:
        assert conn.execute("select id from public.things order by id").fetchall() == [(2,), (3,), (4,)]
        assert conn.execute("select id, thing_id from public.parts order by id").fetchall() == [
            (10, 2),
            (11, 2),
            (12, 3),
        ]
        audit = conn.execute(
            "select action, table_name, row_data ->> 'id' from coachdb_meta.merged_rows order by action"
        ).fetchall()
        assert audit == [("merged", "public.things", "1"), ("repointed", "public.parts", "10")]
        assert conn.execute(
            "select count(*) from pg_constraint where conname = 'things_owner_name_unique'"
        ).fetchone() == (1,)
