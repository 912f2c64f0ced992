-- rls_enabled_no_policy: row level security is on but no policy exists, so nobody but the
-- owner and bypassrls roles sees any row: almost always a forgotten policy.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'rls_enabled_no_policy' as name,
    'INFO' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'row level security is enabled but the table has no policy' as detail,
    'add the policies its clients need, or say in a comment why it has none' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind in ('r', 'p') and c.relrowsecurity
    and not exists (
        select from pg_catalog.pg_policy as p
        where p.polrelid = c.oid
    )
