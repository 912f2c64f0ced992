-- rls_disabled_in_public: a table in an exposed schema without row level security; with
-- Supabase's default grants every row is readable and writable through the API.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'rls_disabled_in_public' as name,
    'ERROR' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'row level security is disabled on a table in an exposed schema' as detail,
    'alter table ... enable row level security, and add owner-scoped policies' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind in ('r', 'p') and not c.relrowsecurity
