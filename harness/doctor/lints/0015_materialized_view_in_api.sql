-- materialized_view_in_api: a materialized view has no row level security, so in an
-- exposed schema every API role with the grant reads all of it.
-- category: SECURITY
-- modes: tree, generic
select distinct
    'materialized_view_in_api' as name,
    'WARN' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'a materialized view in an exposed schema is selectable by API roles (no RLS applies)' as detail,
    'move it to a schema the API does not expose, or revoke select from anon and authenticated' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_roles as r on r.rolname in ('anon', 'authenticated')
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind = 'm'
    and pg_catalog.has_table_privilege(r.oid, c.oid, 'select')
