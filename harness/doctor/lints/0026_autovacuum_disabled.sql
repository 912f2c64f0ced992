-- autovacuum_disabled: a table with autovacuum switched off bloats and its statistics go
-- stale, so plans degrade; transaction ID wraparound still forces a vacuum at the worst time.
-- category: PERFORMANCE
-- modes: tree, generic
select
    'autovacuum_disabled' as name,
    'WARN' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'autovacuum is disabled on this table' as detail,
    'alter table ... reset (autovacuum_enabled)' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ',')) and c.relkind in ('r', 'm')
    and coalesce(c.reloptions, '{}') && array['autovacuum_enabled=false', 'autovacuum_enabled=off', 'autovacuum_enabled=0']
