-- multiple_permissive_policies: two permissive policies for one role and action are OR-ed
-- and both evaluated for every row; one policy with both conditions is cheaper and clearer.
-- category: PERFORMANCE
-- modes: tree, generic
select
    'multiple_permissive_policies' as name,
    'WARN' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    format(
        'role %s has %s permissive policies for %s: %s',
        r.rolname, count(*), a.action, string_agg(p.polname, ', ' order by p.polname)
    ) as detail,
    'merge them into one policy' as remediation
from pg_catalog.pg_policy as p
inner join pg_catalog.pg_class as c on p.polrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
cross join
    lateral unnest(
        case p.polcmd
            when '*' then array['select', 'insert', 'update', 'delete']
            when 'r' then array['select']
            when 'a' then array['insert']
            when 'w' then array['update']
            when 'd' then array['delete']
        end
    ) as a (action)
cross join lateral unnest(p.polroles) as pr (roleid)
inner join pg_catalog.pg_roles as r on pr.roleid = r.oid or pr.roleid = 0
where n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and p.polpermissive
group by n.nspname, c.relname, r.rolname, a.action
having count(*) > 1
