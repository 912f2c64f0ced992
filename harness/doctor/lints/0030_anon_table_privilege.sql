-- anon_table_privilege: coachdb's rule "anon gets nothing": signed-out clients hold no
-- privilege on any table of an exposed schema (Supabase's default grants give them all).
-- category: SECURITY
-- tags: access
-- modes: tree
select
    'anon_table_privilege' as name,
    'ERROR' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    format('anon has %s', string_agg(pr.privilege, ', ' order by pr.privilege)) as detail,
    'revoke all on table ... from anon' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_roles as r on r.rolname = 'anon'
cross join
    unnest(array['select', 'insert', 'update', 'delete', 'truncate', 'references', 'trigger']) as pr (privilege)
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind in ('r', 'p')
    and pg_catalog.has_table_privilege(r.oid, c.oid, pr.privilege)
group by n.nspname, c.relname
