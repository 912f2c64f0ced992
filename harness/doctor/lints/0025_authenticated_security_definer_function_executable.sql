-- authenticated_security_definer_function_executable: a security definer function in an
-- exposed schema that signed-in users may call runs with its owner's rights for any of them.
-- category: SECURITY
-- modes: tree, generic
select
    'authenticated_security_definer_function_executable' as name,
    'WARN' as level,
    p.oid::regprocedure::text as object,
    'signed-in users may call this security definer function through the API' as detail,
    'move the body to a private schema behind a security invoker wrapper, or revoke it from authenticated'
        as remediation
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
inner join pg_catalog.pg_roles as r on r.rolname = 'authenticated'
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and p.prosecdef
    and pg_catalog.has_function_privilege(r.oid, p.oid, 'execute')
    and pg_catalog.has_schema_privilege(r.oid, n.oid, 'usage')
