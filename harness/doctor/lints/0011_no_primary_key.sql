-- no_primary_key: a table without a primary key cannot be replicated logically, and its
-- rows cannot be told apart (doctor --fix refuses to merge duplicates in such a table).
-- category: PERFORMANCE
-- modes: tree, generic
select
    'no_primary_key' as name,
    'INFO' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'the table has no primary key' as detail,
    'add a primary key (e.g. id uuid primary key default gen_random_uuid())' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ',')) and c.relkind in ('r', 'p')
    and not c.relispartition
    and not exists (
        select from pg_catalog.pg_constraint as k
        where k.conrelid = c.oid and k.contype = 'p'
    )
    and not exists (
        select from pg_catalog.pg_depend as d
        where d.objid = c.oid and d.deptype = 'e'
    )
