-- table_without_owner: coachdb's rule that every user-owned row carries its owner
-- (user_id, or auth_user_id on profiles), so RLS can scope it to auth.uid().
-- category: SECURITY
-- tags: access
-- modes: tree
select
    'table_without_owner' as name,
    'WARN' as level,
    format('%I.%I', n.nspname, c.relname) as object,
    'no owner column (user_id or auth_user_id)' as detail,
    'add user_id uuid not null references auth.users (id) on delete cascade' as remediation
from pg_catalog.pg_class as c
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
where
    n.nspname = any(string_to_array(current_setting('coachdb.exposed_schemas'), ',')) and c.relkind in ('r', 'p')
    and not exists (
        select from pg_catalog.pg_attribute as a
        where a.attrelid = c.oid and a.attname in ('user_id', 'auth_user_id') and not a.attisdropped
    )
