-- Supabase stand-in: the `auth` schema with the columns apps use and the claim helpers.
-- The helpers read the per-claim setting first and the JSON claims second, as Supabase's do.
-- Like Supabase's, they set no search_path (every name in them is schema-qualified): a
-- function with a SET clause cannot be inlined, and policies call auth.uid() on every read.

create schema if not exists auth;

create table if not exists auth.users (
    id uuid primary key default gen_random_uuid(),
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    phone text,
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_anonymous boolean not null default false,
    created_at timestamptz default now(),
    updated_at timestamptz default now(),
    deleted_at timestamptz
);

comment on table auth.users is 'Stand-in for Supabase Auth''s users: one row per account.';

create or replace function auth.uid() returns uuid
language sql stable
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
        (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
        (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.email', true), ''),
        (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

comment on function auth.uid() is 'The signed-in user''s id (JWT claim sub), or null.';
comment on function auth.role() is 'The request''s role claim.';
comment on function auth.email() is 'The signed-in user''s email claim.';
comment on function auth.jwt() is 'All claims of the request''s JWT.';

-- As on Supabase: the API roles may use the schema and call the helpers, but may not read
-- auth.users; only service_role can.
grant usage on schema auth to anon, authenticated, service_role;
grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
to anon, authenticated, service_role;
revoke all on auth.users from anon, authenticated;
grant all on auth.users to service_role;
