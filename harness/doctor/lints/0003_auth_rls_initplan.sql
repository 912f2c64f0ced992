-- auth_rls_initplan: a policy that calls auth.uid() (or auth.jwt(), auth.role()) bare is
-- evaluated once per row; wrapped as (select auth.uid()) it is evaluated once per statement.
-- category: PERFORMANCE
-- tags: access
-- modes: tree, generic
select
    'auth_rls_initplan' as name,
    'WARN' as level,
    format('%I.%I: %s', n.nspname, c.relname, p.polname) as object,
    'the policy calls an auth function per row instead of once per statement' as detail,
    'write (select auth.uid()) instead of auth.uid() in the policy' as remediation
from pg_catalog.pg_policy as p
inner join pg_catalog.pg_class as c on p.polrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ','))
    and (
        regexp_replace(
            coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')
            || ' ' || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), ''),
            '\( SELECT auth\.(uid|jwt|role|email)\(\) AS \w+\)', '', 'g'
        ) ~ 'auth\.(uid|jwt|role|email)\(\)'
    )
