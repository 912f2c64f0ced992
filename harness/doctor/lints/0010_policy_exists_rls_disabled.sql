-- policy_exists_rls_disabled: policies were written for a table whose row level security
-- is off, so none of them applies and every row is open to whoever has the grant.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'policy_exists_rls_disabled' as name,
    'ERROR' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    format(
        'the table has policies (%s) but row level security is disabled, so none of them applies',
        string_agg(p.polname, ', ' order by p.polname)
    ) as detail,
    'alter table ... enable row level security' as remediation
from pg_catalog.pg_policy as p
inner join pg_catalog.pg_class as c on p.polrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ',')) and not c.relrowsecurity
group by n.nspname, c.relname
