-- security_definer_function_in_exposed_schema: the API exposes the function directly, so
-- it must check the caller itself; keep definer bodies in a private schema behind an
-- invoker wrapper.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'security_definer_function_in_exposed_schema' as name,
    'WARN' as level,
    p.oid::regprocedure::text as object,
    'a security definer function lives in a schema the API exposes' as detail,
    'move the body to app_private and call it from a security invoker wrapper' as remediation
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
where n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and p.prosecdef
