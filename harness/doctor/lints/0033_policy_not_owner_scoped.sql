-- policy_not_owner_scoped: coachdb's rule that every policy expression tests the table's
-- owner column, so a user's policy can only ever reach that user's rows.
-- category: SECURITY
-- tags: access
-- modes: tree
select
    'policy_not_owner_scoped' as name,
    'WARN' as level,
    format('%I.%I: %s', n.nspname, c.relname, p.polname) as object,
    format('the policy does not test the owner column %s', o.attname) as detail,
    format('scope the policy with (select auth.uid()) = %s', o.attname) as remediation
from pg_catalog.pg_policy as p
inner join pg_catalog.pg_class as c on p.polrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
cross join
    lateral (
        select a.attname::text as attname
        from pg_catalog.pg_attribute as a
        where a.attrelid = c.oid and a.attname in ('user_id', 'auth_user_id') and not a.attisdropped
        order by a.attname desc
        limit 1
    ) as o
cross join
    lateral unnest(array[pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)])
        as e (expression)
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ','))
    and e.expression is not null and strpos(e.expression, o.attname) = 0
group by n.nspname, c.relname, p.polname, o.attname
