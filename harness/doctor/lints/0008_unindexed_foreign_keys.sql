-- unindexed_foreign_keys: a foreign key whose columns lead no index; deletes and updates of
-- the parent scan the child table, and owner-scoped joins cannot use an index.
-- category: PERFORMANCE
-- modes: tree, generic
select
    'unindexed_foreign_keys' as name,
    'INFO' as level,
    format('%I.%I.%I', n.nspname, c.relname, k.conname) as object,
    'no index starts with the foreign key''s columns' as detail,
    'create an index on the foreign key columns (owner first)' as remediation
from pg_catalog.pg_constraint as k
inner join pg_catalog.pg_class as c on k.conrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    k.contype = 'f' and n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
    and not exists (
        select from pg_catalog.pg_index as i
        where
            i.indrelid = k.conrelid
            and (i.indkey::int2[])[0:array_length(k.conkey, 1) - 1] @> k.conkey
            and (i.indkey::int2[])[0:array_length(k.conkey, 1) - 1] <@ k.conkey
    )
