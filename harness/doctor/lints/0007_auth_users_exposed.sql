-- auth_users_exposed: auth.users (emails, metadata) reachable by API roles, directly or
-- through a view in an exposed schema.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'auth_users_exposed' as name,
    'ERROR' as level,
    'auth.users' as object,
    format('%s may select auth.users directly', r.rolname) as detail,
    'revoke select on auth.users from anon, authenticated' as remediation
from pg_catalog.pg_roles as r
where
    r.rolname in ('anon', 'authenticated')
    and to_regclass('auth.users') is not null
    and pg_catalog.has_table_privilege(r.rolname, 'auth.users', 'select')
union all
select distinct
    'auth_users_exposed' as name,
    'ERROR' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'a view in an exposed schema reads auth.users and API roles may select it' as detail,
    'drop the view, or move it out of the exposed schema and revoke it from anon and authenticated'
        as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_rewrite as rw on c.oid = rw.ev_class
inner join pg_catalog.pg_depend as d on rw.oid = d.objid
inner join pg_catalog.pg_roles as r on r.rolname in ('anon', 'authenticated')
where
    d.refobjid = to_regclass('auth.users')
    and n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind in ('v', 'm')
    and pg_catalog.has_table_privilege(r.oid, c.oid, 'select')
