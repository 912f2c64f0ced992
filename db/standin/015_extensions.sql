-- Supabase stand-in: the `extensions` schema, where Supabase installs extensions and where
-- apps and test helpers (Basejump's supabase-test-helpers) call them from:
-- `extensions.uuid_generate_v4()` and pgcrypto's functions.
-- uuid-ossp and pgcrypto are installed there when the server ships them (both are trusted
-- extensions: no superuser needed). Where uuid-ossp is missing, or already installed in
-- another schema, `extensions.uuid_generate_v4()` is a SQL function over the core
-- `gen_random_uuid()`, which returns the same kind of value (a random version-4 uuid).

create schema if not exists extensions;

comment on schema extensions is 'Extensions, as on Supabase (uuid-ossp, pgcrypto).';

do $$
begin
    if exists (select from pg_catalog.pg_available_extensions where name = 'uuid-ossp')
        and not exists (select from pg_catalog.pg_extension where extname = 'uuid-ossp') then
        create extension "uuid-ossp" with schema extensions;
    end if;
    if exists (select from pg_catalog.pg_available_extensions where name = 'pgcrypto')
        and not exists (select from pg_catalog.pg_extension where extname = 'pgcrypto') then
        create extension pgcrypto with schema extensions;
    end if;
    if pg_catalog.to_regprocedure('extensions.uuid_generate_v4()') is null then
        create function extensions.uuid_generate_v4() returns uuid
        language sql volatile parallel safe
        as 'select pg_catalog.gen_random_uuid()';
        comment on function extensions.uuid_generate_v4() is
        'A random (version 4) uuid; stands in for uuid-ossp''s where the server lacks it.';
    end if;
end
$$;

grant usage on schema extensions to anon, authenticated, service_role;
