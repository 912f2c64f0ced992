"""The lock classifier says what PostgreSQL does: for each statement, run in a transaction
that is rolled back, the strongest lock the server holds on each table (pg_locks) is the
one ``classify`` predicts, and a statement rewrites the table (a new relfilenode) exactly
when ``classify`` says it does."""

from __future__ import annotations

import pytest

from harness.locks import MODES, classify, classify_script

SETUP = """
create table public.parent (id int primary key);
create table public.child (a int, b int, note text);
insert into public.parent values (1);
insert into public.child values (1, 1, 'x');
create function public.touch() returns trigger language plpgsql as $$ begin return new; end $$;
"""

STATEMENTS = [
    "grant select on public.child to public",
    "revoke select on public.child from public",
    "grant update (a) on public.child to public",
    "comment on table public.child is 'x'",
    "comment on column public.child.a is 'x'",
    "alter table public.child enable row level security",
    "create policy p on public.child for select using (true)",
    "create trigger t before update on public.child for each row execute function public.touch()",
    "alter table public.child add constraint child_b_fkey foreign key (b) references public.parent (id)",
    "alter table public.child add constraint child_b_fkey foreign key (b) references public.parent (id) not valid",
    "create index child_a on public.child (a)",
    "alter table public.child add column c int default 0",
    "alter table public.child add column c timestamptz default now()",
    "alter table public.child add column c uuid default gen_random_uuid()",
    "alter table public.child alter column a set not null",
    "alter table public.child alter column a type bigint",
    "alter table public.child drop column note",
    "alter table public.child add constraint child_a_positive check (a > 0)",
    "truncate public.child",
    "delete from public.child",
    "lock table public.child in share mode",
]


def live_locks(conn) -> dict[str, str]:
    rows = conn.execute(
        "select relation::regclass::text, mode from pg_locks"
        " where pid = pg_backend_pid() and locktype = 'relation' and relation::regclass::text in ('child', 'parent')"
    ).fetchall()
    strongest: dict[str, str] = {}
    for table, mode in rows:
        name = f"public.{table}"
        strongest[name] = max(strongest.get(name, MODES[0]), mode, key=MODES.index)
    return strongest


@pytest.mark.parametrize("statement", STATEMENTS)
def test_the_classifier_predicts_the_lock_and_the_rewrite(statement, admin):
    admin.execute(SETUP)
    effect = classify(statement)
    with admin.transaction(force_rollback=True):
        before = admin.execute("select pg_relation_filenode('public.child')").fetchone()[0]
        admin.execute(statement)
        locks = live_locks(admin)
        rewritten = admin.execute("select pg_relation_filenode('public.child')").fetchone()[0] != before

    held = max(locks.values(), key=MODES.index) if locks else None
    assert effect.lock == held, (effect.lock, locks)
    assert set(effect.tables) == set(locks)
    if statement.startswith("truncate"):  # a new, empty file: no copy, but every row is gone
        assert rewritten and effect.data_loss
    else:
        assert effect.rewrites == rewritten


def test_a_script_is_classified_statement_by_statement_and_concurrently_runs_outside():
    effects = classify_script(
        "create table public.x (id int);\n"
        "create index concurrently x_id on public.x (id);\n"
        "alter table public.x drop column id;\n"
    )
    assert [e.kind for e in effects] == ["create table", "create index concurrently", "alter table"]
    assert [e.transactional for e in effects] == [True, False, True]
    assert effects[0].creates == (("table", "public.x"),)
    assert effects[2].data_loss and not effects[0].data_loss
