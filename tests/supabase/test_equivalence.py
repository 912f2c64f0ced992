"""Loading supabase/migrations the way `supabase db push` does, into a database that has
Supabase's roles and auth, gives the same catalog as `coachdb apply` on a twin database, and
as the declared tree itself (db/ run directly): tables, columns, constraints, indexes,
policies, grants, functions with their settings and ACLs, triggers and comments. The last
comparison is what fails when db/ was edited and no migration written."""

from __future__ import annotations

import psycopg

from harness import builds, catalog
from harness.supabase_push import local_migrations


def test_the_migrations_build_the_declared_tree(scratch, catalog_of):
    pushed, declared = scratch(), scratch()
    report = builds.from_migrations(pushed)
    builds.from_declared(declared)

    assert len(report.applied) == len(local_migrations()) > 0
    assert catalog.differences(catalog_of(declared), catalog_of(pushed), ("db/", "migrations")) == [], (
        "supabase/migrations no longer build the tree: write the change with `coachdb diff --name NAME` "
        "(before the first deploy, `coachdb supabase --rebaseline` rewrites the baseline instead)"
    )


def test_db_push_and_coachdb_apply_build_the_same_catalog(scratch, catalog_of):
    pushed, applied = scratch(), scratch()
    builds.from_migrations(pushed)
    builds.from_apply(applied)

    a, b = catalog_of(applied), catalog_of(pushed)
    assert catalog.differences(a, b, ("apply", "push")) == []
    # The comparison has substance: every kind of object the issue names is in it.
    for kind in ("table", "column", "constraint", "index", "policy", "function", "trigger", "type", "schema"):
        assert a[kind], f"the snapshot found no {kind}"


def test_the_catalog_comparison_sees_each_kind_of_hand_change(scratch, catalog_of):
    """The equivalence above is only worth something if a difference would show: one hand
    change of each kind, each named in the comparison."""
    url = scratch()
    builds.from_declared(url)
    before = catalog_of(url)
    changes = {
        "grant": "grant insert on public.plans to authenticated",
        "comment": "comment on column public.plans.name is 'changed'",
        "function setting": "alter function public.export_my_data() set work_mem = '8MB'",
        "function acl": "grant execute on function public.export_my_data() to anon",
        "rls flag": "alter table public.plans disable row level security",
        "policy": 'alter policy "users can read their own plans" on public.plans to authenticated, service_role',
        "trigger": "alter table public.plans disable trigger plans_set_updated_at",
        "column default": "alter table public.plans alter column weeks set default 4",
        "index": "create index plans_name_idx on public.plans (name)",
    }
    with psycopg.connect(url, autocommit=True) as conn:
        for what, statement in changes.items():
            with conn.transaction():
                conn.execute(statement)
                after = catalog.snapshot(conn)
                assert catalog.differences(before, after), f"a {what} change went unseen: {statement}"
                raise psycopg.Rollback()
