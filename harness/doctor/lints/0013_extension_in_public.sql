-- extension_in_public: an extension installed into public puts its functions and types in
-- the schema the API exposes; Supabase keeps them in schema extensions.
-- category: SECURITY
-- modes: tree, generic
select
    'extension_in_public' as name,
    'WARN' as level,
    e.extname::text as object,
    format('extension %s is installed in schema public', e.extname) as detail,
    'create schema if not exists extensions; alter extension ... set schema extensions' as remediation
from pg_catalog.pg_extension as e
where e.extnamespace = 'public'::regnamespace
