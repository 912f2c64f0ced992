"""One test per advisor lint and drift rule, each on a database made to have the problem."""

from __future__ import annotations

import psycopg
import pytest

from harness.doctor import diagnose

CASES = {
    "rls_disabled_in_public": ["alter table public.plans disable row level security"],
    "rls_enabled_no_policy": [
        "create table public.notes (id int primary key, user_id uuid)",
        "alter table public.notes enable row level security",
    ],
    "auth_rls_initplan": [
        'create policy "per row" on public.workouts for select to authenticated using (auth.uid() = user_id)'
    ],
    "multiple_permissive_policies": [
        'create policy "second" on public.plans for select to authenticated using ((select auth.uid()) = user_id)'
    ],
    "function_search_path_mutable": ["create function app_private.loose() returns int language sql as 'select 1'"],
    "anon_security_definer_function_executable": [
        "create function public.powerful() returns int language sql security definer set search_path = ''"
        " as 'select 1'",
        "grant execute on function public.powerful() to anon",
    ],
    "security_definer_function_in_exposed_schema": [
        "create function public.definer() returns int language sql security definer set search_path = '' as 'select 1'",
        "revoke all on function public.definer() from public, anon",
    ],
    "auth_users_exposed": ["grant select on auth.users to authenticated"],
    "unindexed_foreign_keys": [
        "create table app_private.links (id int primary key, plan_id uuid references public.plans (id))"
    ],
    "seed_verification": [
        "revoke execute on function public.finalize_onboarding(text, jsonb, jsonb) from authenticated"
    ],
    "on_conflict_without_arbiter": [
        "create function app_private.upsert_tz(p text) returns void language plpgsql set search_path = '' as $$"
        " begin insert into app_private.known_timezones as k (name) values (p)"
        " on conflict on constraint no_such_constraint do nothing; end $$"
    ],
}

#: The rest of Splinter's list that needs no Supabase service, and coachdb's own access rules.
MORE_CASES = {
    "policy_exists_rls_disabled": ["alter table public.plans disable row level security"],
    "no_primary_key": ["create table app_private.loose_rows (x int)"],
    "duplicate_index": [
        "create index plans_user_a on public.plans (user_id)",
        "create index plans_user_b on public.plans (user_id)",
    ],
    "security_definer_view": [
        "create view public.plan_names as select name from public.plans",
        "grant select on public.plan_names to authenticated",
    ],
    "materialized_view_in_api": [
        "create materialized view public.plan_count as select count(*) as n from public.plans",
        "grant select on public.plan_count to authenticated",
    ],
    "rls_references_user_metadata": [
        'create policy "by metadata" on public.plans for select to authenticated'
        " using (((select auth.jwt()) -> 'user_metadata' ->> 'team') = 'a')"
    ],
    "foreign_table_in_api": [
        "create foreign data wrapper doctor_test_fdw",
        "create server doctor_test_server foreign data wrapper doctor_test_fdw",
        "create foreign table public.remote_rows (x int) server doctor_test_server",
    ],
    "unsupported_reg_types": ["alter table public.plans add column handler regproc"],
    "fkey_to_auth_unique": [
        # auth.users carries Supabase's users_phone_key (the stand-in has it, as Supabase does)
        "create table app_private.phone_book (id int primary key, phone text references auth.users (phone))",
    ],
    "anon_table_privilege": ["grant select on public.plans to anon"],
    "sensitive_columns_exposed": [
        "create table public.api_keys (id int primary key, user_id uuid, api_key text)",
        "grant select on public.api_keys to authenticated",
    ],
    "rls_policy_always_true": [
        'create policy "anyone may rename" on public.plans for update to authenticated using (true) with check (true)'
    ],
    "authenticated_security_definer_function_executable": [
        "create function public.as_owner() returns int language sql security definer set search_path = ''"
        " as 'select 1'",
        "revoke all on function public.as_owner() from public, anon",
        "grant execute on function public.as_owner() to authenticated",
    ],
    "autovacuum_disabled": ["alter table public.messages set (autovacuum_enabled = false)"],
    "table_without_owner": [
        "create table public.lookup (id int primary key)",
        "alter table public.lookup enable row level security",
        "revoke all on public.lookup from anon, authenticated",
    ],
    "policy_roles": ['create policy "everyone" on public.plans for select using ((select auth.uid()) = user_id)'],
    "policy_not_owner_scoped": ['create policy "open" on public.plans for select to authenticated using (true)'],
    "grant_without_policy": ["grant delete on public.plans to authenticated"],
    "function_executable_by_anon": [
        "create function app_private.open_door() returns int language sql set search_path = '' as 'select 1'",
        "grant execute on function app_private.open_door() to anon",
    ],
    "function_executable_by_public": [
        "create function app_private.half_open() returns int language sql set search_path = '' as 'select 1'"
    ],
}

DRIFT = {
    "drift_extra_column": ["alter table public.plans add column colour text"],
    "drift_missing_index": ["drop index public.workouts_user_id_scheduled_on_idx"],
    "drift_changed_function": [
        "create or replace function app_private.default_plan_name(p_goal public.fitness_goal) returns text"
        " language sql immutable set search_path = '' as $$ select 'Plan' $$"
    ],
    "drift_changed_policy": ['alter policy "users can read their own plans" on public.plans using (true)'],
    "drift_missing_table": ["drop table public.idempotency_keys cascade"],
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_lint_fires_on_a_database_made_to_have_it(rule, db_url, admin):
    assert rule not in {f.name for f in diagnose(db_url, with_drift=False)}
    for statement in CASES[rule]:
        admin.execute(statement)
    findings = [f for f in diagnose(db_url, with_drift=False) if f.name == rule]
    assert findings, f"{rule} did not fire"
    assert all(f.detail and f.remediation and f.level in ("ERROR", "WARN", "INFO") for f in findings)


@pytest.mark.parametrize("rule", sorted(DRIFT))
def test_each_drift_rule_fires(rule, db_url, admin):
    for statement in DRIFT[rule]:
        admin.execute(statement)
    assert rule in {f.name for f in diagnose(db_url)}


@pytest.mark.parametrize("rule", sorted(MORE_CASES))
def test_each_further_lint_fires_on_a_database_made_to_have_it(rule, db_url, admin):
    assert rule not in {f.name for f in diagnose(db_url, with_drift=False)}
    for statement in MORE_CASES[rule]:
        admin.execute(statement)
    findings = [f for f in diagnose(db_url, with_drift=False) if f.name == rule]
    assert findings, f"{rule} did not fire"
    assert "check_skipped" not in {f.name for f in diagnose(db_url, with_drift=False)}


def test_extension_lints_fire_where_the_server_has_an_extension_to_install(db_url, admin):
    available = dict(
        admin.execute(
            "select name, default_version from pg_available_extensions"
            " where name in ('citext', 'vector', 'pgcrypto') and installed_version is null order by name"
        ).fetchall()
    )
    if not available:
        pytest.skip("this server offers none of citext, vector, pgcrypto to install into public")
    name = next(iter(available))
    older = admin.execute(
        "select version from pg_available_extension_versions where name = %s and version <> %s"
        " and not superuser is null order by version limit 1",
        [name, available[name]],
    ).fetchone()
    if older:
        admin.execute(f"create extension \"{name}\" schema public version '{older[0]}'")
    else:
        admin.execute(f'create extension "{name}" schema public')
    found = {f.name for f in diagnose(db_url, with_drift=False)}
    assert "extension_in_public" in found
    if older:
        assert "extension_versions_outdated" in found


def test_unused_index_is_reported_on_any_database_only(db_url, admin):
    admin.execute("create index plans_name_idx on public.plans (name)")
    assert "unused_index" in {f.name for f in diagnose(db_url, mode="generic")}
    assert "unused_index" not in {f.name for f in diagnose(db_url, with_drift=False)}


def test_every_lint_file_declares_its_rule_category_and_modes():
    from harness.doctor.lints import all_lints

    lints = all_lints()
    assert len(lints) >= 20
    for lint in lints:
        assert f"'{lint.name}' as name" in lint.sql, lint.path.name
        assert lint.category in ("SECURITY", "PERFORMANCE"), lint.path.name
        assert lint.modes and lint.modes <= {"tree", "generic"}, lint.path.name


def test_invalid_index_is_reported_after_a_failed_concurrent_build(db_url, admin):
    admin.execute("create table app_private.tallies (id int primary key, label text)")
    admin.execute("insert into app_private.tallies values (1, 'same'), (2, 'same')")
    with pytest.raises(psycopg.errors.UniqueViolation):
        admin.execute("create unique index concurrently tallies_label_key on app_private.tallies (label)")
    found = [f for f in diagnose(db_url, with_drift=False) if f.name == "invalid_index"]
    assert [f.object for f in found] == ["app_private.tallies_label_key"]
