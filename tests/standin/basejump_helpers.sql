-- Test helpers in the style of Basejump's supabase-test-helpers: create a user the way they
-- do (an auth.users row whose id comes from extensions.uuid_generate_v4()), act as that user
-- (role authenticated, JWT claims in request.jwt.claims), and check that every table of a
-- schema has RLS on. Loaded into a test database only; the app's SQL never depends on them.

create schema if not exists tests;

create or replace function tests.create_supabase_user(
    p_identifier text, p_email text default null, p_phone text default null
) returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_id uuid;
begin
    insert into auth.users (id, email, phone, raw_user_meta_data)
    values (
        extensions.uuid_generate_v4(),
        coalesce(p_email, p_identifier || '@test.example'),
        p_phone,
        pg_catalog.jsonb_build_object('test_identifier', p_identifier)
    )
    returning id into v_id;
    return v_id;
end
$$;

-- Reads auth.users for the helpers below, which run as the user under test (who may not):
-- a definer function, as in supabase-test-helpers. Test-only; never part of the app.
create or replace function tests.get_supabase_user(p_identifier text) returns jsonb
language sql stable security definer
set search_path = ''
as $$
    select pg_catalog.jsonb_build_object('id', u.id, 'email', u.email, 'phone', u.phone)
    from auth.users as u
    where u.raw_user_meta_data ->> 'test_identifier' = p_identifier
$$;

create or replace function tests.authenticate_as(p_identifier text) returns void
language plpgsql
set search_path = ''
as $$
declare
    v_user jsonb := tests.get_supabase_user(p_identifier);
begin
    if v_user is null then
        raise exception 'user with identifier % not found', p_identifier;
    end if;
    perform pg_catalog.set_config('role', 'authenticated', true);
    perform pg_catalog.set_config(
        'request.jwt.claims',
        (pg_catalog.jsonb_build_object('sub', v_user ->> 'id', 'role', 'authenticated') || v_user - 'id')::text,
        true
    );
end
$$;

create or replace function tests.rls_enabled(p_schema text) returns boolean
language sql stable
set search_path = ''
as $$
    select coalesce(pg_catalog.bool_and(c.relrowsecurity), false)
    from pg_catalog.pg_class as c
    where c.relnamespace = p_schema::regnamespace and c.relkind in ('r', 'p')
$$;

grant usage on schema tests to anon, authenticated, service_role;
grant execute on all functions in schema tests to anon, authenticated, service_role;
