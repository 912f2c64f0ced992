-- security_definer_view: a view runs with its owner's rights unless it is created with
-- security_invoker; in an exposed schema it bypasses the RLS of the tables it reads.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select distinct
    'security_definer_view' as name,
    'ERROR' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'a view in an exposed schema runs with its owner''s rights (no security_invoker), bypassing RLS' as detail,
    'alter view ... set (security_invoker = on), or revoke it from anon and authenticated' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_roles as r on r.rolname in ('anon', 'authenticated')
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind = 'v'
    and not coalesce(c.reloptions, '{}') && array['security_invoker=true', 'security_invoker=on', 'security_invoker=1']
    and pg_catalog.has_table_privilege(r.oid, c.oid, 'select')
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.objid = c.oid and d.deptype = 'e'
    )
