-- Supabase stand-in: the `auth` schema, `auth.users` as Supabase Auth defines it, and the
-- claim helpers.
--
-- auth.users has the 35 columns, defaults, checks and unique keys that Supabase Auth's own
-- migrations (github.com/supabase/auth, migrations/) leave on a hosted project, so an app
-- or a test helper that inserts users the Supabase way (id supplied, email unique unless
-- the account is an SSO one, phone unique) behaves the same here. Columns are added with
-- `if not exists` so a database that has an older stand-in converges to this one.
-- RLS is enabled on it as on Supabase (since 2024): with no policy, only its owner and
-- roles that bypass RLS (service_role) see rows.
--
-- The helpers read the per-claim setting first and the JSON claims second, as Supabase's do.
-- Like Supabase's, they set no search_path (every name in them is schema-qualified): a
-- function with a SET clause cannot be inlined, and policies call auth.uid() on every read.

create schema if not exists auth;

create table if not exists auth.users (
    id uuid not null,
    constraint users_pkey primary key (id)
);

alter table auth.users
add column if not exists instance_id uuid,
add column if not exists aud varchar(255),
add column if not exists role varchar(255),
add column if not exists email varchar(255),
add column if not exists encrypted_password varchar(255),
add column if not exists email_confirmed_at timestamptz,
add column if not exists invited_at timestamptz,
add column if not exists confirmation_token varchar(255),
add column if not exists confirmation_sent_at timestamptz,
add column if not exists recovery_token varchar(255),
add column if not exists recovery_sent_at timestamptz,
add column if not exists email_change_token_new varchar(255),
add column if not exists email_change varchar(255),
add column if not exists email_change_sent_at timestamptz,
add column if not exists last_sign_in_at timestamptz,
add column if not exists raw_app_meta_data jsonb,
add column if not exists raw_user_meta_data jsonb,
add column if not exists is_super_admin boolean,
add column if not exists created_at timestamptz,
add column if not exists updated_at timestamptz,
add column if not exists phone text default null,
add column if not exists phone_confirmed_at timestamptz,
add column if not exists phone_change text default '',
add column if not exists phone_change_token varchar(255) default '',
add column if not exists phone_change_sent_at timestamptz,
add column if not exists confirmed_at timestamptz
generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
add column if not exists email_change_token_current varchar(255) default '',
add column if not exists email_change_confirm_status smallint default 0,
add column if not exists banned_until timestamptz,
add column if not exists reauthentication_token varchar(255) default '',
add column if not exists reauthentication_sent_at timestamptz,
add column if not exists is_sso_user boolean not null default false,
add column if not exists deleted_at timestamptz,
add column if not exists is_anonymous boolean not null default false;

-- Supabase Auth supplies id and the timestamps itself: the table has no defaults for them
-- (an older stand-in had; this takes them back).
alter table auth.users
alter column id drop default,
alter column created_at drop default,
alter column updated_at drop default;

do $$
begin
    if not exists (
        select from pg_catalog.pg_constraint
        where conrelid = 'auth.users'::regclass and conname = 'users_email_change_confirm_status_check'
    ) then
        alter table auth.users add constraint users_email_change_confirm_status_check
        check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2);
    end if;
    if not exists (
        select from pg_catalog.pg_constraint
        where conrelid = 'auth.users'::regclass and conname = 'users_phone_key'
    ) then
        alter table auth.users add constraint users_phone_key unique (phone);
    end if;
end
$$;

create unique index if not exists users_email_partial_key on auth.users (email)
where (is_sso_user = false);
create unique index if not exists confirmation_token_idx on auth.users (confirmation_token)
where ((confirmation_token)::text !~ '^[0-9 ]*$');
create unique index if not exists recovery_token_idx on auth.users (recovery_token)
where ((recovery_token)::text !~ '^[0-9 ]*$');
create unique index if not exists email_change_token_new_idx on auth.users (email_change_token_new)
where ((email_change_token_new)::text !~ '^[0-9 ]*$');
create unique index if not exists email_change_token_current_idx on auth.users (email_change_token_current)
where ((email_change_token_current)::text !~ '^[0-9 ]*$');
create unique index if not exists reauthentication_token_idx on auth.users (reauthentication_token)
where ((reauthentication_token)::text !~ '^[0-9 ]*$');
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower((email)::text));
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);

alter table auth.users enable row level security;

comment on table auth.users is
'Stand-in for Supabase Auth''s users: one row per account, Supabase''s columns and keys.';
comment on column auth.users.is_sso_user is
'True for accounts that come from SSO; only these may share an email.';
comment on index auth.users_email_partial_key is
'One account per email, except SSO accounts (as Supabase Auth).';

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
