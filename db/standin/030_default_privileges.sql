-- Supabase stand-in: hosted Supabase's default privileges. Every new table, function and
-- sequence that the owner role (`postgres` there; whoever loads this here) creates in
-- `public` is granted to the three API roles, so the app's SQL must revoke what it does not
-- mean to give.

grant usage on schema public to anon, authenticated, service_role;

do $$
begin
    execute format(
        'alter default privileges for role %I in schema public '
        'grant all on tables to anon, authenticated, service_role',
        current_user
    );
    execute format(
        'alter default privileges for role %I in schema public '
        'grant all on functions to anon, authenticated, service_role',
        current_user
    );
    execute format(
        'alter default privileges for role %I in schema public '
        'grant all on sequences to anon, authenticated, service_role',
        current_user
    );
end
$$;
