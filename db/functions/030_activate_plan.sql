-- activate_plan: make one of the caller's plans the active one, archiving the previous.
-- Activating the plan that is already active changes nothing. A completed plan stays
-- completed (PT409).

create or replace function app_private.activate_plan(p_plan_id uuid) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
    v_status public.plan_status;
    v_archived uuid;
begin
    if p_plan_id is null then
        perform app_private.raise_invalid('plan_id', 'is required');
    end if;
    perform app_private.lock_user(v_uid);
    select pl.status into v_status
    from public.plans as pl
    where pl.user_id = v_uid and pl.id = p_plan_id;
    if not found then
        perform app_private.raise_not_found('plan', p_plan_id);
    end if;
    if v_status = 'active' then
        return pg_catalog.jsonb_build_object('plan_id', p_plan_id, 'archived_plan_id', null);
    end if;
    if v_status = 'completed' then
        perform app_private.raise_conflict('plan_id', 'a completed plan cannot be activated again');
    end if;

    update public.plans as pl
    set status = 'archived', archived_at = pg_catalog.now()
    where pl.user_id = v_uid and pl.status = 'active'
    returning pl.id into v_archived;

    update public.plans as pl
    set status = 'active', activated_at = pg_catalog.now(), archived_at = null
    where pl.user_id = v_uid and pl.id = p_plan_id;

    return pg_catalog.jsonb_build_object('plan_id', p_plan_id, 'archived_plan_id', v_archived);
end
$$;

comment on function app_private.activate_plan(uuid) is
'Body of public.activate_plan; security definer, checks the caller itself.';

create or replace function public.activate_plan(plan_id uuid) returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
    return app_private.activate_plan(plan_id);
end
$$;

comment on function public.activate_plan(uuid) is
'Make one of the caller''s plans the active one, archiving the previous active plan.';

revoke all on function app_private.activate_plan(uuid) from public, anon, service_role;
grant execute on function app_private.activate_plan(uuid) to authenticated;
revoke all on function public.activate_plan(uuid) from public, anon, service_role;
grant execute on function public.activate_plan(uuid) to authenticated;
