-- function_executable_by_anon: coachdb's rule that signed-out clients call no function;
-- anon's own grant survives a revoke from public, so it must be revoked by name.
-- category: SECURITY
-- tags: access
-- modes: tree
select
    'function_executable_by_anon' as name,
    'ERROR' as level,
    p.oid::regprocedure::text as object,
    'anon may execute it' as detail,
    'revoke execute on function ... from public, anon' as remediation
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
inner join pg_catalog.pg_roles as r on r.rolname = 'anon'
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
    and pg_catalog.has_function_privilege(r.oid, p.oid, 'execute')
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.objid = p.oid and d.deptype = 'e'
    )
