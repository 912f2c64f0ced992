-- fkey_to_auth_unique: a foreign key to auth.users through a unique key other than its
-- primary key; Supabase Auth may drop or change those keys in an upgrade.
-- category: SECURITY
-- modes: tree, generic
select
    'fkey_to_auth_unique' as name,
    'ERROR' as level,
    format('%I.%I.%I', n.nspname, c.relname, k.conname) as object,
    'the foreign key references auth.users through a unique key that is not its primary key' as detail,
    'reference auth.users (id) instead' as remediation
from pg_catalog.pg_constraint as k
inner join pg_catalog.pg_class as c on k.conrelid = c.oid
inner join pg_catalog.pg_namespace as n on c.relnamespace = n.oid
inner join pg_catalog.pg_constraint as target on k.conindid = target.conindid and k.confrelid = target.conrelid
where
    k.contype = 'f' and k.confrelid = to_regclass('auth.users') and target.contype = 'u'
    and n.nspname = any(string_to_array(current_setting('coachdb.app_schemas'), ','))
