-- function_executable_by_public: PostgreSQL grants execute on every new function to
-- PUBLIC; coachdb revokes it and grants each function to the roles that need it.
-- category: SECURITY
-- tags: access
-- modes: tree
select
    'function_executable_by_public' as name,
    'WARN' as level,
    p.oid::regprocedure::text as object,
    'public may execute it' as detail,
    'revoke execute on function ... from public, then grant it to the roles that need it' as remediation
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
    and exists (
        select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
        where a.grantee = 0 and a.privilege_type = 'EXECUTE'
    )
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.objid = p.oid and d.deptype = 'e'
    )
