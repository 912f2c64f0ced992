-- Schemas the app owns besides `public`.
-- `app_private` holds security-definer RPC bodies and helpers. It is never exposed through
-- the API (Supabase's advisor and PostgREST only see `public`), and only the roles that
-- call into it may use it.

create schema if not exists app_private;

comment on schema app_private is
'Private helpers and security-definer RPC bodies; never exposed through the API.';

revoke all on schema app_private from public;
grant usage on schema app_private to authenticated, service_role;
