-- purge_idempotency_keys: housekeeping for the AI service; deletes keys older than the
-- given age (30 days by default) and returns how many.

create or replace function app_private.purge_idempotency_keys(p_older_than interval) returns bigint
language plpgsql volatile security definer
set search_path = ''
as $$
declare
    v_count bigint;
begin
    perform app_private.require_service_role('purge_idempotency_keys');
    if p_older_than is null then
        perform app_private.raise_invalid('older_than', 'is required');
    end if;
    if p_older_than < interval '0' then
        perform app_private.raise_invalid('older_than', 'must not be negative');
    end if;
    delete from public.idempotency_keys as k
    where k.created_at < pg_catalog.now() - p_older_than;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

comment on function app_private.purge_idempotency_keys(interval) is
'Body of public.purge_idempotency_keys; security definer, service role only.';

create or replace function public.purge_idempotency_keys(older_than interval default '30 days')
returns bigint
language plpgsql volatile
set search_path = ''
as $$
begin
    return app_private.purge_idempotency_keys(older_than);
end
$$;

comment on function public.purge_idempotency_keys(interval) is
'Delete idempotency keys older than the given age; returns how many (service role).';

revoke all on function app_private.purge_idempotency_keys(interval) from public, anon, authenticated;
grant execute on function app_private.purge_idempotency_keys(interval) to service_role;
revoke all on function public.purge_idempotency_keys(interval) from public, anon, authenticated;
grant execute on function public.purge_idempotency_keys(interval) to service_role;
