-- unused_index: an index the server's statistics have never seen scanned; it costs every
-- write. Generic databases only: a coachdb database is judged by its plan-shape tests, and
-- a fresh test database has scanned nothing yet.
-- category: PERFORMANCE
-- modes: generic
select
    'unused_index' as name,
    'INFO' as level,
    format('%I.%I', s.schemaname, s.indexrelname) as object,
    format('index on %I.%I has never been used since statistics were last reset', s.schemaname, s.relname)
        as detail,
    'drop it if no query needs it (check after a representative period of traffic)' as remediation
from pg_catalog.pg_stat_user_indexes as s
inner join pg_catalog.pg_index as i on s.indexrelid = i.indexrelid
where
    s.schemaname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
    and s.idx_scan = 0 and not i.indisunique and not i.indisprimary
    and not exists (
        select from pg_catalog.pg_constraint as k
        where k.conindid = i.indexrelid
    )
