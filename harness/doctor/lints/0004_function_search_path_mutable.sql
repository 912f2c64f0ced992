-- function_search_path_mutable: a function without a pinned search_path resolves names
-- through the caller's search_path, which a caller can point at objects of its own.
-- category: SECURITY
-- tags: access
-- modes: tree, generic
select
    'function_search_path_mutable' as name,
    'WARN' as level,
    p.oid::regprocedure::text as object,
    'the function does not set search_path' as detail,
    'add set search_path = '''' and schema-qualify every name' as remediation
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on p.pronamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.objid = p.oid and d.deptype = 'e'
    )
    and not coalesce(p.proconfig, '{}') && array['search_path=""', 'search_path=pg_catalog']
    and not exists (
        select from unnest(coalesce(p.proconfig, '{}')) as s (setting)
        where s.setting like 'search_path=%'
    )
