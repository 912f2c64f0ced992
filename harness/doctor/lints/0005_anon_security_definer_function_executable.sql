-- anon_security_definer_function_executable: a security definer function that signed-out
-- clients may call runs with its owner's rights on their behalf.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'anon_security_definer_function_executable' as name,
    'ERROR' as level,
    p.oid::regprocedure::text as object,
    'anon may execute this security definer function' as detail,
    'revoke execute on function ... from public, anon' as remediation
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
inner join pg_catalog.pg_roles as r on r.rolname = 'anon'
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ',')) and p.prosecdef
    and pg_catalog.has_function_privilege(r.oid, p.oid, 'execute')
    and pg_catalog.has_schema_privilege(r.oid, n.oid, 'usage')
