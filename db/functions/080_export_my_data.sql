-- export_my_data: everything the caller owns, one key per table, each an array of rows.

create or replace function app_private.export_my_data() returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
begin
    return pg_catalog.jsonb_build_object(
        'profiles', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) order by t.created_at, t.id)
            from public.profiles as t where t.auth_user_id = v_uid
        ), '[]'::jsonb),
        'plans', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) order by t.created_at, t.id)
            from public.plans as t where t.user_id = v_uid
        ), '[]'::jsonb),
        'workouts', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) order by t.scheduled_on, t.id)
            from public.workouts as t where t.user_id = v_uid
        ), '[]'::jsonb),
        'conversations', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) order by t.created_at, t.id)
            from public.conversations as t where t.user_id = v_uid
        ), '[]'::jsonb),
        'messages', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) order by t.created_at, t.id)
            from public.messages as t where t.user_id = v_uid
        ), '[]'::jsonb),
        'idempotency_keys', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) order by t.created_at, t.key)
            from public.idempotency_keys as t where t.user_id = v_uid
        ), '[]'::jsonb)
    );
end
$$;

comment on function app_private.export_my_data() is
'Body of public.export_my_data; security definer, checks the caller itself.';

create or replace function public.export_my_data() returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
    return app_private.export_my_data();
end
$$;

comment on function public.export_my_data() is
'Everything the caller owns: one key per table, each an array of their rows.';

revoke all on function app_private.export_my_data() from public, anon, service_role;
grant execute on function app_private.export_my_data() to authenticated;
revoke all on function public.export_my_data() from public, anon, service_role;
grant execute on function public.export_my_data() to authenticated;
