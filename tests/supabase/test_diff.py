"""`coachdb diff` turns an in-place edit of the tree into a migration: applied the db push
way to a database of the old tree (with its demo data), it gives the catalog of a fresh
build of the new tree, keeps every row, and flags the statements that need a look."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql

from harness import builds, catalog
from harness.diff import Rename, diff
from harness.loader import statements
from harness.migrations import read_migrations
from harness.sqltree import sql_files
from harness.supabase_push import push

pytestmark = pytest.mark.slow  # each case builds four or five databases: seconds, not milliseconds

APP_TABLES = ("profiles", "plans", "workouts", "conversations", "messages", "idempotency_keys")

BADGES = """\
-- badges: achievements a user earned.

create table public.badges (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    name text not null,
    earned_at timestamptz not null default now(),
    constraint badges_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
    constraint badges_user_id_name_unique unique (user_id, name)
);

comment on table public.badges is 'Achievements a user earned.';
comment on column public.badges.id is 'Badge id.';
comment on column public.badges.user_id is 'Owner (auth.users).';
comment on column public.badges.name is 'What was achieved.';
comment on column public.badges.earned_at is 'When.';
"""
BADGE_POLICIES = """
alter table public.badges enable row level security;
drop policy if exists "users can read their own badges" on public.badges;
create policy "users can read their own badges" on public.badges
for select to authenticated
using ((select auth.uid()) = user_id);
"""
BADGE_GRANTS = """
revoke all on public.badges from public, anon, authenticated, service_role;
grant select on public.badges to authenticated;
grant select, insert, update, delete on public.badges to service_role;
"""


@dataclass
class Edit:
    """One edit of the issue: text replacements in the tree, the renames to declare, and
    whether the migration must flag a statement (and with what)."""

    replace: list[tuple[str, str, str]] = field(default_factory=list)
    append: list[tuple[str, str]] = field(default_factory=list)
    renames: list[str] = field(default_factory=list)
    risky: bool = False
    flag: str = ""


PLANS = "db/schema/020_plans.sql"
NOT_BLANK = "    constraint plans_name_not_blank check (btrim(name) <> ''),\n"
EDITS = {
    "add a nullable column": Edit(
        replace=[
            (
                "db/schema/010_profiles.sql",
                "    onboarded_at timestamptz,\n",
                "    onboarded_at timestamptz,\n    bio text,\n",
            )
        ],
        append=[("db/schema/010_profiles.sql", "\ncomment on column public.profiles.bio is 'About me.';\n")],
    ),
    "add a column with a default": Edit(
        replace=[
            (
                PLANS,
                "    archived_at timestamptz,\n",
                "    archived_at timestamptz,\n    favourite boolean not null default false,\n",
            )
        ],
        append=[(PLANS, "\ncomment on column public.plans.favourite is 'Pinned by the user.';\n")],
    ),
    # The engine adds the check `not valid` and validates it; db push runs the file in one
    # transaction, so the ACCESS EXCLUSIVE of the first is held through the scan: flagged.
    "add a check": Edit(
        replace=[
            (
                PLANS,
                "    constraint plans_weeks_range",
                "    constraint plans_name_not_blank check (btrim(name) <> ''),\n    constraint plans_weeks_range",
            )
        ],
        risky=True,
        flag="constraint-missing-not-valid",
    ),
    "add an index": Edit(
        append=[(PLANS, "\ncreate index plans_user_id_created_at_idx on public.plans (user_id, created_at);\n")],
        risky=True,
        flag="require-concurrent-index-creation",
    ),
    "rename a column": Edit(
        replace=[
            ("db/schema/040_conversations.sql", "last_message_at", "last_activity_at"),
            ("db/functions/060_messages.sql", "last_message_at", "last_activity_at"),
        ],
        renames=["public.conversations.last_message_at=last_activity_at"],
        risky=True,
        flag="renaming-column",
    ),
    "widen a type": Edit(
        replace=[(PLANS, "weeks smallint not null", "weeks integer not null")],
        risky=True,
        flag="REWRITE",
    ),
    "add a table with its policies": Edit(
        append=[
            ("db/schema/070_badges.sql", BADGES),
            ("db/policies/000_privileges.sql", BADGE_GRANTS),
            ("db/policies/010_row_level_security.sql", BADGE_POLICIES),
        ],
    ),
}


def load_seed(url: str, root) -> None:
    with psycopg.connect(url) as conn:
        for file in sql_files(root, stages=("seed",)):
            for _, statement in statements(file.text):
                conn.execute(statement.encode())


def rows(url: str, keep: dict[str, set[str]], renamed: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Every row of every app table, as sorted JSON of the columns in ``keep`` (named after
    ``renamed``), so rows before and after a migration compare value by value."""
    renamed = renamed or {}
    result = {}
    with psycopg.connect(url) as conn:
        for table in APP_TABLES:
            found = conn.execute(sql.SQL("select to_jsonb(t) from {} t").format(sql.Identifier("public", table)))
            result[table] = sorted(
                json.dumps(
                    {renamed.get(k, k): v for k, v in row.items() if renamed.get(k, k) in keep[table]}, sort_keys=True
                )
                for (row,) in found
            )
    return result


def rows_of(table_rows: dict[str, list[str]], keep: dict[str, set[str]]) -> dict[str, list[str]]:
    """``table_rows`` narrowed to the columns in ``keep``."""
    return {
        t: sorted(json.dumps({k: v for k, v in json.loads(r).items() if k in keep[t]}, sort_keys=True) for r in rs)
        for t, rs in table_rows.items()
    }


def columns(url: str, renamed: dict[str, str] | None = None) -> dict[str, set[str]]:
    renamed = renamed or {}
    query = "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped"
    with psycopg.connect(url) as conn:
        return {t: {renamed.get(r[0], r[0]) for r in conn.execute(query, [f"public.{t}"])} for t in APP_TABLES}


@pytest.mark.parametrize("edit_name", list(EDITS))
def test_the_migration_of_an_edit_gives_the_new_trees_catalog_and_keeps_every_row(
    edit_name, tree, scratch, provider, catalog_of
):
    edit = EDITS[edit_name]
    old = scratch()
    builds.from_migrations(old, tree.migrations, tree.root)
    load_seed(old, tree.root)
    rename_map = {Rename.parse(r).old: Rename.parse(r).new for r in edit.renames}
    old_columns = columns(old, rename_map)
    every = {t: {*c, *rename_map.values()} for t, c in old_columns.items()}
    before = rows(old, every, rename_map)
    assert sum(map(len, before.values())) > 0, "the demo data should give the old tree rows to keep"

    for relative, old_text, new_text in edit.replace:
        tree.edit(relative, old_text, new_text)
    for relative, text in edit.append:
        tree.append(relative, text)
    result = diff(
        "edit",
        server_url=provider.url,
        root=tree.root,
        directory=tree.migrations,
        renames=[Rename.parse(r) for r in edit.renames],
    )
    assert result.path is not None and result.path.exists()

    report = push(old, tree.migrations)
    assert report.applied == [result.path.name]
    fresh = scratch()
    builds.from_declared(fresh, tree.root)
    assert catalog.differences(catalog_of(old), catalog_of(fresh), ("migrated", "fresh")) == []

    kept = {t: c & old_columns[t] for t, c in columns(fresh).items()}
    assert rows(old, kept) == rows_of(before, kept), "a row or a value was lost"

    flagged = [r for r in result.statement_risks if r.risky]
    assert bool(flagged) == edit.risky, "\n".join(r.comment() + "\n" + r.statement for r in flagged)
    if edit.flag:
        assert edit.flag in result.text
    # The migration says which statement it flags, right above it, in the file itself.
    for risk in flagged:
        assert f"{risk.comment()}\n{risk.statement}" in result.text

    # Once written, the tree and the migrations agree: the catalogs are equal (above), so a
    # second diff has nothing to say (run in full by test_a_changed_function_file_...).


def test_a_column_renamed_without_rename_is_flagged_as_data_loss(tree, provider):
    tree.edit("db/schema/040_conversations.sql", "last_message_at", "last_activity_at")
    tree.edit("db/functions/060_messages.sql", "last_message_at", "last_activity_at")
    result = diff("rename_undeclared", server_url=provider.url, root=tree.root, directory=tree.migrations, write=False)
    lost = [r for r in result.statement_risks if r.data_loss]
    assert lost and "drops column public.conversations.last_message_at" in lost[0].data_loss[0]
    assert "-- DATA LOSS (measured): drops column public.conversations.last_message_at" in result.text


def test_a_changed_function_file_goes_into_the_migration_whole(tree, provider):
    tree.append(
        "db/functions/060_messages.sql",
        "\ncreate or replace function app_private.message_marker() returns int\nlanguage sql immutable\n"
        "set search_path = ''\nas $$ select 1 $$;\n\ncomment on function app_private.message_marker() is 'Test.';\n\n"
        "revoke all on function app_private.message_marker() from public;\n",
    )
    result = diff("reword", server_url=provider.url, root=tree.root, directory=tree.migrations)
    assert result.carried == ["db/functions/060_messages.sql"]
    text = (tree.root / "db/functions/060_messages.sql").read_text()
    assert f"-- coachdb: begin db/functions/060_messages.sql\n{text}-- coachdb: end" in result.text
    # Nothing written twice: the engine left that file's functions to the carried text.
    assert "create or replace function" not in result.text.split("-- coachdb: begin")[0].lower()
    again = diff("again", server_url=provider.url, root=tree.root, directory=tree.migrations, write=False)
    assert again.empty, again.text


def test_an_unedited_tree_gives_no_migration(tree, provider):
    result = diff("nothing", server_url=provider.url, root=tree.root, directory=tree.migrations)
    assert result.empty and result.path is None
    assert len(read_migrations(tree.migrations)) == len(list(tree.migrations.glob("*.sql")))


def test_a_plugged_classifier_annotates_each_statement_and_counts_as_a_risk(tree, provider):
    """The plug issue 14's statement classifier (harness/locks.py) is wired into."""
    tree.append(PLANS, "\ncreate index plans_user_id_created_at_idx on public.plans (user_id, created_at);\n")
    seen = []

    def classifier(statement: str) -> list[str]:
        seen.append(statement)
        return (
            ["SHARE lock on public.plans: blocks writes while the index builds"]
            if "create index" in statement.lower()
            else []
        )

    result = diff("plugged", server_url=provider.url, root=tree.root, directory=tree.migrations, classifier=classifier)
    assert seen == [r.statement for r in result.statement_risks]
    assert "-- classifier: SHARE lock on public.plans: blocks writes while the index builds" in result.text
    flagged = [r for r in result.statement_risks if r.classifier]
    assert flagged and all(r.risky for r in flagged)
