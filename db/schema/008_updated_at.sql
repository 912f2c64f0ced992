-- The trigger function that keeps `updated_at` true on every table.

create or replace function app_private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end
$$;

comment on function app_private.set_updated_at() is
'Trigger: stamps updated_at with the transaction time on every update.';

revoke all on function app_private.set_updated_at() from public;
