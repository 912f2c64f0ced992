-- grant_without_policy: authenticated holds a privilege on a table with row level security
-- but no policy covers that command, so the grant does nothing but mislead.
-- category: SECURITY
-- tags: access
-- modes: tree
select
    'grant_without_policy' as name,
    'WARN' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    format('authenticated may %s but no policy covers it', pr.privilege) as detail,
    'add a policy for that command, or revoke the privilege' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_roles as r on r.rolname = 'authenticated'
cross join
    lateral (
        values ('select', 'r'), ('insert', 'a'), ('update', 'w'), ('delete', 'd')
    ) as pr (privilege, command)
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind in ('r', 'p')
    and c.relrowsecurity
    and (
        pg_catalog.has_table_privilege(r.oid, c.oid, pr.privilege)
        or (pr.privilege <> 'delete' and pg_catalog.has_any_column_privilege(r.oid, c.oid, pr.privilege))
    )
    and not exists (
        select from pg_catalog.pg_policy as p
        where p.polrelid = c.oid and p.polcmd in (pr.command, '*')
    )
