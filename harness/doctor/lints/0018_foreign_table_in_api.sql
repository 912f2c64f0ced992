-- foreign_table_in_api: a foreign table has no row level security, so in an exposed schema
-- the API serves whatever the remote side returns.
-- category: SECURITY
-- modes: tree, generic
select
    'foreign_table_in_api' as name,
    'WARN' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'a foreign table in an exposed schema (no RLS applies to it)' as detail,
    'move it to a schema the API does not expose' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind = 'f'
