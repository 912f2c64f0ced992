-- invalid_index: an index marked invalid (an interrupted create index concurrently, or a
-- failed reindex) is maintained on every write but never used; a unique one enforces nothing.
-- category: PERFORMANCE
-- modes: tree, generic
select
    'invalid_index' as name,
    'WARN' as level,
    format('%I.%I', n.nspname, x.relname) as object,
    format('index on %I.%I is invalid (an interrupted or failed build)', n.nspname, c.relname) as detail,
    'drop index concurrently ...; then create it again (coachdb doctor --fix does this for the keys it repairs)'
        as remediation
from pg_catalog.pg_index as i
inner join pg_catalog.pg_class as x on i.indexrelid = x.oid
inner join pg_catalog.pg_class as c on i.indrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ',')) and not i.indisvalid
