-- complete_workout and skip_workout: a scheduled workout of the active plan becomes
-- completed (with results) or skipped (with a reason). Repeating the same call changes
-- nothing (updated_at included) and answers replayed = true; a repeat with other results,
-- or a change that makes no sense (completing a skipped workout, touching a workout of a
-- plan that is not active), is PT409 with the reason.

create or replace function app_private.workout_for_change(
    p_user_id uuid, p_workout_id uuid
) returns public.workouts
language plpgsql volatile
set search_path = ''
as $$
declare
    v_workout public.workouts;
    v_plan_status public.plan_status;
begin
    if p_workout_id is null then
        perform app_private.raise_invalid('workout_id', 'is required');
    end if;
    select w.* into v_workout
    from public.workouts as w
    where w.user_id = p_user_id and w.id = p_workout_id
    for update;
    if not found then
        perform app_private.raise_not_found('workout', p_workout_id);
    end if;
    select pl.status into v_plan_status
    from public.plans as pl
    where pl.user_id = p_user_id and pl.id = v_workout.plan_id;
    if v_plan_status <> 'active' then
        perform app_private.raise_conflict(
            'workout_id',
            pg_catalog.format('the workout belongs to a plan that is %s, not active', v_plan_status)
        );
    end if;
    return v_workout;
end
$$;

comment on function app_private.workout_for_change(uuid, uuid) is
'The caller''s workout, locked, if its plan is active; PT404 or PT409 otherwise.';

create or replace function app_private.complete_workout(p_workout_id uuid, p_result jsonb)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
    v_result jsonb := app_private.closed_object(
        coalesce(p_result, '{}'::jsonb), 'result', '{duration_min,distance_m,rpe,notes}'
    );
    v_clean jsonb;
    v_workout public.workouts;
    v_completed_at timestamptz;
begin
    -- A field the client did not send is not validated (each check is a function call, and
    -- absent means null to every one of them): most results carry two or three fields.
    v_clean := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'duration_min', case when v_result operator(pg_catalog.?) 'duration_min' then
            app_private.json_int(v_result -> 'duration_min', 'result.duration_min', 1, 1440) end,
        'distance_m', case when v_result operator(pg_catalog.?) 'distance_m' then
            app_private.json_number(v_result -> 'distance_m', 'result.distance_m', 0, 1000000) end,
        'rpe', case when v_result operator(pg_catalog.?) 'rpe' then
            app_private.json_int(v_result -> 'rpe', 'result.rpe', 1, 10) end,
        'notes', case when v_result operator(pg_catalog.?) 'notes' then
            app_private.json_text(v_result -> 'notes', 'result.notes', 1, 2000) end
    ));

    perform app_private.lock_user(v_uid);
    -- The common case in one statement: a scheduled workout of the active plan. Anything
    -- else (missing, another user's, a plan not active, skipped, a repeat) finds no row here
    -- and is answered below, exactly as before.
    update public.workouts as w
    set status = 'completed', result = v_clean, completed_at = pg_catalog.now()
    from public.plans as pl
    where w.user_id = v_uid and w.id = p_workout_id and w.status = 'scheduled'
        and pl.user_id = v_uid and pl.id = w.plan_id and pl.status = 'active'
    returning w.completed_at into v_completed_at;
    if found then
        return pg_catalog.jsonb_build_object(
            'workout_id', p_workout_id, 'status', 'completed',
            'completed_at', v_completed_at, 'replayed', false
        );
    end if;

    v_workout := app_private.workout_for_change(v_uid, p_workout_id);
    if v_workout.status = 'skipped' then
        perform app_private.raise_conflict('workout_id', 'the workout was skipped; it cannot be completed');
    end if;
    if v_workout.status = 'completed' then
        if v_workout.result <> v_clean then
            perform app_private.raise_conflict(
                'result', 'the workout is already completed with other results'
            );
        end if;
        return pg_catalog.jsonb_build_object(
            'workout_id', v_workout.id, 'status', 'completed',
            'completed_at', v_workout.completed_at, 'replayed', true
        );
    end if;

    update public.workouts as w
    set status = 'completed', result = v_clean, completed_at = pg_catalog.now()
    where w.user_id = v_uid and w.id = v_workout.id
    returning w.completed_at into v_completed_at;

    return pg_catalog.jsonb_build_object(
        'workout_id', v_workout.id, 'status', 'completed',
        'completed_at', v_completed_at, 'replayed', false
    );
end
$$;

comment on function app_private.complete_workout(uuid, jsonb) is
'Body of public.complete_workout; security definer, checks the caller itself.';

create or replace function app_private.skip_workout(p_workout_id uuid, p_reason text)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
    v_reason text;
    v_workout public.workouts;
    v_skipped_at timestamptz;
begin
    v_reason := app_private.clean_text(p_reason, 'reason', 1, 500);

    perform app_private.lock_user(v_uid);
    v_workout := app_private.workout_for_change(v_uid, p_workout_id);
    if v_workout.status = 'completed' then
        perform app_private.raise_conflict('workout_id', 'the workout was completed; it cannot be skipped');
    end if;
    if v_workout.status = 'skipped' then
        if v_workout.skip_reason is distinct from v_reason then
            perform app_private.raise_conflict('reason', 'the workout is already skipped for another reason');
        end if;
        return pg_catalog.jsonb_build_object(
            'workout_id', v_workout.id, 'status', 'skipped',
            'skipped_at', v_workout.skipped_at, 'replayed', true
        );
    end if;

    update public.workouts as w
    set status = 'skipped', skip_reason = v_reason, skipped_at = pg_catalog.now()
    where w.user_id = v_uid and w.id = v_workout.id
    returning w.skipped_at into v_skipped_at;

    return pg_catalog.jsonb_build_object(
        'workout_id', v_workout.id, 'status', 'skipped',
        'skipped_at', v_skipped_at, 'replayed', false
    );
end
$$;

comment on function app_private.skip_workout(uuid, text) is
'Body of public.skip_workout; security definer, checks the caller itself.';

create or replace function public.complete_workout(workout_id uuid, result jsonb default '{}'::jsonb)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
    return app_private.complete_workout(workout_id, result);
end
$$;

comment on function public.complete_workout(uuid, jsonb) is
'Record a workout''s results (duration_min, distance_m, rpe 1-10, notes); a repeat changes nothing.';

create or replace function public.skip_workout(workout_id uuid, reason text default null)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
    return app_private.skip_workout(workout_id, reason);
end
$$;

comment on function public.skip_workout(uuid, text) is
'Mark a scheduled workout of the active plan as skipped, with an optional reason.';

revoke all on function app_private.workout_for_change(uuid, uuid) from public;
revoke all on function app_private.complete_workout(uuid, jsonb) from public, anon, service_role;
grant execute on function app_private.complete_workout(uuid, jsonb) to authenticated;
revoke all on function app_private.skip_workout(uuid, text) from public, anon, service_role;
grant execute on function app_private.skip_workout(uuid, text) to authenticated;
revoke all on function public.complete_workout(uuid, jsonb) from public, anon, service_role;
grant execute on function public.complete_workout(uuid, jsonb) to authenticated;
revoke all on function public.skip_workout(uuid, text) from public, anon, service_role;
grant execute on function public.skip_workout(uuid, text) to authenticated;
