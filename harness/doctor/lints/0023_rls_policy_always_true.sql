-- rls_policy_always_true: a permissive write policy for API roles whose condition is the
-- constant true lets every such user change every row: RLS in name only. (A select policy
-- using true is often a deliberate public read, so only writes are reported.)
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'rls_policy_always_true' as name,
    'WARN' as level,
    format('%I.%I: %s', n.nspname, c.relname, p.polname) as object,
    format(
        'a permissive %s policy whose condition is always true',
        case p.polcmd when 'a' then 'insert' when 'w' then 'update' when 'd' then 'delete' else 'all' end
    ) as detail,
    'scope the policy to the row''s owner: (select auth.uid()) = owner column' as remediation
from pg_catalog.pg_policy as p
inner join pg_catalog.pg_class as c on p.polrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
    and c.relrowsecurity and p.polpermissive and p.polcmd in ('a', 'w', 'd', '*')
    and (
        p.polroles = array[0::oid]
        or exists (
            select from unnest(p.polroles) as pr (roleid)
            inner join pg_catalog.pg_roles as r on pr.roleid = r.oid
            where r.rolname in ('anon', 'authenticated')
        )
    )
    and (
        (p.polcmd <> 'a' and lower(coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), 'true')) = 'true')
        or lower(coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')) = 'true'
        or (p.polcmd = 'a' and p.polwithcheck is null)
    )
