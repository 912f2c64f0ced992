-- hot_paths_in_plpgsql: written by `coachdb diff` from the edited tree (db/) against the previous state
-- (supabase/migrations), by the diff engine results 2.0.1789346060; verified: applied to the previous
-- state it gives the tree's catalog. Above each statement: the locks it took, rewrites and data
-- loss as measured on a copy of the previous state; squawk's findings.
-- Statements that need a look: 0.

-- db push runs this file in one transaction: no lock is waited for longer than this.
set local lock_timeout = '4s';

-- db/functions/008_idempotency.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/008_idempotency.sql
-- Idempotency keys: the same (user, operation, key) with the same payload replays the first
-- response with replayed = true; with another payload it is refused with PT409.
-- Callers hold the user's lock (app_private.lock_user) around lookup and store.

create or replace function app_private.idempotency_key(p_key text, p_field text) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_key is null then
        perform app_private.raise_invalid(p_field, 'is required');
    end if;
    if pg_catalog.char_length(p_key) not between 1 and 200 then
        perform app_private.raise_invalid(p_field, 'must be 1 to 200 characters');
    end if;
    return p_key;
end
$$;

comment on function app_private.idempotency_key(text, text) is
'Validates an idempotency key: present, 1-200 characters.';

create or replace function app_private.idempotent_replay(
    p_user_id uuid, p_operation text, p_key text, p_request_hash text
) returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
    v_hash text;
    v_response jsonb;
begin
    select k.request_hash, k.response into v_hash, v_response
    from public.idempotency_keys as k
    where k.user_id = p_user_id and k.operation = p_operation and k.key = p_key;
    if not found then
        return null;
    end if;
    if v_hash <> p_request_hash then
        raise exception 'idempotency key reused with another payload: % was first used with a different request', p_operation
        using errcode = 'PT409',
        hint = 'Use a new idempotency key for a different request.';
    end if;
    return v_response || '{"replayed": true}'::jsonb;
end
$$;

comment on function app_private.idempotent_replay(uuid, text, text, text) is
'The stored response for a key (replayed = true), null for a new key, PT409 for reuse.';

create or replace function app_private.idempotent_store(
    p_user_id uuid, p_operation text, p_key text, p_request_hash text, p_response jsonb
) returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
    -- plpgsql, not sql: a sql function with a SET clause is planned on every call.
    insert into public.idempotency_keys (user_id, operation, key, request_hash, response)
    values (p_user_id, p_operation, p_key, p_request_hash, p_response);
    return p_response || '{"replayed": false}'::jsonb;
end
$$;

comment on function app_private.idempotent_store(uuid, text, text, text, jsonb) is
'Records the first response for a key and returns it with replayed = false.';

revoke all on function app_private.idempotency_key(text, text) from public;
revoke all on function app_private.idempotent_replay(uuid, text, text, text) from public;
revoke all on function app_private.idempotent_store(uuid, text, text, text, jsonb) from public;
-- coachdb: end db/functions/008_idempotency.sql

-- db/functions/010_plan_generation.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/010_plan_generation.sql
-- Deterministic plan generation: days_per_week sessions a week, spread over the week, their
-- kinds rotating through a pattern chosen by the goal, their length growing week by week.
--
-- Planned cheaply on purpose. The week and day series have constant bounds (the largest
-- plan: 52 weeks, 7 days) filtered down to the plan's size, so the planner sees 52 and 7
-- rows instead of its default 1,000 for a series with non-constant bounds; and the
-- function declares the rows it returns (4 weeks of 4 days is typical, 364 the most).
-- Written with generate_series(0, p_weeks - 1), the body was estimated at 1,000,000 rows
-- (1,000 x 1,000, sorted), a cost over jit_above_cost: on a server with JIT (PostgreSQL's
-- default) every sign-up paid ~12 ms of LLVM compilation for 12 rows.
--
-- Both functions are plpgsql rather than sql: a sql function with a SET clause is never
-- inlined, so PostgreSQL (before 18) parses and plans its body on every call (~260 us for
-- generated_workouts); plpgsql keeps the plan for the session.

create or replace function app_private.generated_workouts(
    p_goal public.fitness_goal, p_days_per_week int, p_weeks int, p_starts_on date
) returns table (scheduled_on date, kind public.workout_kind, title text, targets jsonb)
language plpgsql immutable
rows 16
set search_path = ''
as $$
begin
    return query
    with pattern as (
        select case p_goal
            when 'general_fitness' then
                '{run,strength,mobility,cross_training,run,strength,recovery}'::text []
            when 'weight_loss' then
                '{run,cross_training,strength,run,cross_training,mobility,recovery}'::text []
            when 'strength' then
                '{strength,mobility,strength,cross_training,strength,recovery,mobility}'::text []
            when 'endurance' then
                '{run,strength,run,cross_training,run,mobility,recovery}'::text []
            when 'race_prep' then
                '{run,strength,run,mobility,run,cross_training,recovery}'::text []
        end as kinds
    )
    select
        p_starts_on + (w.n * 7 + (s.n * 7) / p_days_per_week) as scheduled_on,
        pattern.kinds[s.n + 1]::public.workout_kind as kind,
        pg_catalog.format(
            '%s, week %s',
            pg_catalog.initcap(pg_catalog.replace(pattern.kinds[s.n + 1], '_', '-')), w.n + 1
        ) as title,
        pg_catalog.jsonb_build_object(
            'duration_min',
            case
                when pattern.kinds[s.n + 1] in ('mobility', 'recovery') then 20 + 2 * least(w.n, 5)
                else 30 + 5 * least(w.n, 9)
            end,
            'intensity',
            case
                when pattern.kinds[s.n + 1] in ('mobility', 'recovery') then 'easy'
                when s.n = 0 then 'moderate'
                when w.n % 4 = 3 then 'easy'
                else 'hard'
            end
        ) as targets
    from pattern,
        pg_catalog.generate_series(0, 51) as w (n),
        pg_catalog.generate_series(0, 6) as s (n)
    where w.n < p_weeks and s.n < p_days_per_week
    order by 1;
end
$$;

comment on function app_private.generated_workouts(public.fitness_goal, int, int, date) is
'The workouts a plan gets when the client sends none: deterministic in goal, days and weeks.';

create or replace function app_private.default_plan_name(p_goal public.fitness_goal)
returns text
language plpgsql immutable
set search_path = ''
as $$
begin
    return case p_goal
        when 'general_fitness' then 'General fitness plan'
        when 'weight_loss' then 'Weight loss plan'
        when 'strength' then 'Strength plan'
        when 'endurance' then 'Endurance plan'
        when 'race_prep' then 'Race preparation plan'
    end;
end
$$;

comment on function app_private.default_plan_name(public.fitness_goal) is
'The name a plan gets when the client sends none.';

revoke all on function app_private.generated_workouts(
    public.fitness_goal, int, int, date
) from public;
revoke all on function app_private.default_plan_name(public.fitness_goal) from public;
-- coachdb: end db/functions/010_plan_generation.sql

-- db/functions/020_finalize_onboarding.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/020_finalize_onboarding.sql
-- finalize_onboarding: the sign-up RPC. In one transaction it upserts the caller's profile
-- (on conflict (auth_user_id): the arbiter is profiles_auth_user_id_unique), archives any
-- active plan, creates the new active plan with its workouts and stamps onboarded_at.
-- Idempotent on idempotency_key; serialised per user.

create or replace function app_private.finalize_onboarding(
    p_idempotency_key text, p_profile jsonb, p_plan jsonb
) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
    v_key text := app_private.idempotency_key(p_idempotency_key, 'idempotency_key');
    v_profile jsonb := app_private.require_object(p_profile, 'profile');
    v_plan jsonb := app_private.require_object(coalesce(p_plan, '{}'::jsonb), 'plan');
    v_hash text;
    v_response jsonb;
    -- profile fields
    v_display_name text;
    v_goal public.fitness_goal;
    v_experience public.experience_level;
    v_days int;
    v_units public.unit_system;
    v_timezone text;
    v_metadata jsonb;
    -- plan fields
    v_name text;
    v_starts_on date;
    v_weeks int;
    v_given jsonb;
    v_dates date [] := '{}'::date [];
    v_kinds public.workout_kind [] := '{}'::public.workout_kind [];
    v_titles text [] := '{}'::text [];
    v_targets jsonb [] := '{}'::jsonb [];
    v_item jsonb;
    v_field text;
    v_date date;
    -- results
    v_profile_id uuid;
    v_plan_id uuid;
    v_onboarded_at timestamptz;
    v_count int;
begin
    -- Validate everything before taking a lock or writing anything.
    perform app_private.reject_unknown_keys(
        v_profile, 'profile',
        '{display_name,goal,experience,days_per_week,units,timezone,metadata}'
    );
    v_display_name := app_private.json_text(
        v_profile -> 'display_name', 'profile.display_name', 1, 80, true
    );
    v_goal := app_private.json_label(
        v_profile -> 'goal', 'profile.goal',
        enum_range(null::public.fitness_goal)::text [], true
    )::public.fitness_goal;
    v_experience := coalesce(app_private.json_label(
        v_profile -> 'experience', 'profile.experience',
        enum_range(null::public.experience_level)::text []
    ), 'beginner')::public.experience_level;
    v_days := app_private.json_int(
        v_profile -> 'days_per_week', 'profile.days_per_week', 1, 7, true
    );
    v_units := coalesce(app_private.json_label(
        v_profile -> 'units', 'profile.units', enum_range(null::public.unit_system)::text []
    ), 'metric')::public.unit_system;
    v_timezone := coalesce(
        app_private.timezone_name(v_profile -> 'timezone', 'profile.timezone'), 'UTC'
    );
    v_metadata := coalesce(
        app_private.json_object(v_profile -> 'metadata', 'profile.metadata'), '{}'::jsonb
    );

    perform app_private.reject_unknown_keys(
        v_plan, 'plan', '{name,starts_on,weeks,workouts}'
    );
    v_name := coalesce(
        app_private.json_text(v_plan -> 'name', 'plan.name', 1, 120),
        app_private.default_plan_name(v_goal)
    );
    v_starts_on := coalesce(
        app_private.json_date(v_plan -> 'starts_on', 'plan.starts_on'),
        (pg_catalog.now() at time zone v_timezone)::date
    );
    v_weeks := coalesce(app_private.json_int(v_plan -> 'weeks', 'plan.weeks', 1, 52), 4);
    v_given := v_plan -> 'workouts';
    if v_given is not null and pg_catalog.jsonb_typeof(v_given) <> 'null' then
        if pg_catalog.jsonb_typeof(v_given) <> 'array' then
            perform app_private.raise_invalid('plan.workouts', 'must be a JSON array');
        end if;
        if pg_catalog.jsonb_array_length(v_given) > v_weeks * 7 then
            perform app_private.raise_invalid(
                'plan.workouts',
                pg_catalog.format('must hold at most one workout a day (%s)', v_weeks * 7)
            );
        end if;
        for v_i in 0 .. pg_catalog.jsonb_array_length(v_given) - 1 loop
            v_field := pg_catalog.format('plan.workouts[%s]', v_i);
            v_item := app_private.require_object(v_given -> v_i, v_field);
            perform app_private.reject_unknown_keys(
                v_item, v_field, '{scheduled_on,kind,title,targets}'
            );
            v_date := app_private.json_date(
                v_item -> 'scheduled_on', v_field || '.scheduled_on', true
            );
            if v_date not between v_starts_on and v_starts_on + (v_weeks * 7 - 1) then
                perform app_private.raise_invalid(
                    v_field || '.scheduled_on',
                    pg_catalog.format(
                        'must fall inside the plan (%s to %s)',
                        v_starts_on, v_starts_on + (v_weeks * 7 - 1)
                    )
                );
            end if;
            if v_date = any(v_dates) then
                perform app_private.raise_invalid(
                    v_field || '.scheduled_on',
                    pg_catalog.format('%s already has a workout: at most one a day', v_date)
                );
            end if;
            v_dates := v_dates || v_date;
            v_kinds := v_kinds || app_private.json_label(
                v_item -> 'kind', v_field || '.kind',
                enum_range(null::public.workout_kind)::text [], true
            )::public.workout_kind;
            v_titles := v_titles || coalesce(
                app_private.json_text(v_item -> 'title', v_field || '.title', 1, 120),
                pg_catalog.initcap(pg_catalog.replace(v_kinds[v_i + 1]::text, '_', '-'))
            );
            v_targets := v_targets || coalesce(
                app_private.json_object(v_item -> 'targets', v_field || '.targets'), '{}'::jsonb
            );
        end loop;
    end if;

    -- One writer per user at a time: same-key retries replay, other keys queue up.
    v_hash := app_private.request_hash(
        pg_catalog.jsonb_build_object('profile', v_profile, 'plan', v_plan)
    );
    perform app_private.lock_user(v_uid);
    v_response := app_private.idempotent_replay(
        v_uid, 'finalize_onboarding', v_key, v_hash
    );
    if v_response is not null then
        return v_response;
    end if;

    insert into public.profiles as p (
        auth_user_id, display_name, goal, experience, days_per_week, units, timezone,
        metadata, onboarded_at
    )
    values (
        v_uid, v_display_name, v_goal, v_experience, v_days, v_units, v_timezone,
        v_metadata, pg_catalog.now()
    )
    on conflict (auth_user_id) do update
        set display_name = excluded.display_name,
        goal = excluded.goal,
        experience = excluded.experience,
        days_per_week = excluded.days_per_week,
        units = excluded.units,
        timezone = excluded.timezone,
        metadata = excluded.metadata,
        onboarded_at = coalesce(p.onboarded_at, excluded.onboarded_at)
    returning p.id, p.onboarded_at into v_profile_id, v_onboarded_at;

    update public.plans as pl
    set status = 'archived', archived_at = pg_catalog.now()
    where pl.user_id = v_uid and pl.status = 'active';

    insert into public.plans (user_id, name, goal, status, starts_on, weeks, activated_at)
    values (v_uid, v_name, v_goal, 'active', v_starts_on, v_weeks, pg_catalog.now())
    returning id into v_plan_id;

    if v_given is not null and pg_catalog.jsonb_typeof(v_given) = 'array' then
        insert into public.workouts (user_id, plan_id, scheduled_on, kind, title, targets)
        select v_uid, v_plan_id, g.scheduled_on, g.kind, g.title, g.targets
        from unnest(v_dates, v_kinds, v_titles, v_targets)
            as g (scheduled_on, kind, title, targets);
    else
        insert into public.workouts (user_id, plan_id, scheduled_on, kind, title, targets)
        select v_uid, v_plan_id, g.scheduled_on, g.kind, g.title, g.targets
        from app_private.generated_workouts(v_goal, v_days, v_weeks, v_starts_on) as g;
    end if;
    get diagnostics v_count = row_count;

    return app_private.idempotent_store(
        v_uid, 'finalize_onboarding', v_key, v_hash,
        pg_catalog.jsonb_build_object(
            'profile_id', v_profile_id,
            'plan_id', v_plan_id,
            'workout_count', v_count,
            'onboarded_at', v_onboarded_at
        )
    );
end
$$;

comment on function app_private.finalize_onboarding(text, jsonb, jsonb) is
'Body of public.finalize_onboarding; security definer, checks the caller itself.';

create or replace function public.finalize_onboarding(
    idempotency_key text, profile jsonb, plan jsonb default '{}'::jsonb
) returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
    return app_private.finalize_onboarding(idempotency_key, profile, plan);
end
$$;

comment on function public.finalize_onboarding(text, jsonb, jsonb) is
'Onboard the caller: upsert profile, archive the active plan, create the new plan and workouts.';

revoke all on function app_private.finalize_onboarding(text, jsonb, jsonb) from public, anon, service_role;
grant execute on function app_private.finalize_onboarding(text, jsonb, jsonb) to authenticated;
revoke all on function public.finalize_onboarding(text, jsonb, jsonb) from public, anon, service_role;
grant execute on function public.finalize_onboarding(text, jsonb, jsonb) to authenticated;
-- coachdb: end db/functions/020_finalize_onboarding.sql

-- db/functions/040_workout_status.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/040_workout_status.sql
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
    v_result jsonb := app_private.require_object(coalesce(p_result, '{}'::jsonb), 'result');
    v_clean jsonb;
    v_workout public.workouts;
    v_completed_at timestamptz;
begin
    perform app_private.reject_unknown_keys(
        v_result, 'result', '{duration_min,distance_m,rpe,notes}'
    );
    v_clean := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'duration_min', app_private.json_int(v_result -> 'duration_min', 'result.duration_min', 1, 1440),
        'distance_m', app_private.json_number(v_result -> 'distance_m', 'result.distance_m', 0, 1000000),
        'rpe', app_private.json_int(v_result -> 'rpe', 'result.rpe', 1, 10),
        'notes', app_private.json_text(v_result -> 'notes', 'result.notes', 1, 2000)
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
-- coachdb: end db/functions/040_workout_status.sql

-- db/functions/060_messages.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/060_messages.sql
-- post_message (the user's turn, idempotent on client_message_id) and
-- record_assistant_message (the coach's turn, service role only; idempotent on reply_to).

create or replace function app_private.message_content(p_content text) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_content is null then
        perform app_private.raise_invalid('content', 'is required');
    end if;
    if pg_catalog.char_length(p_content) not between 1 and 8000
        or app_private.strip_whitespace(p_content) = '' then
        perform app_private.raise_invalid('content', 'must be 1 to 8000 characters, not all blank');
    end if;
    return p_content;
end
$$;

comment on function app_private.message_content(text) is
'Validates a message''s text: 1-8000 characters, not all blank.';

create or replace function app_private.append_message(
    p_user_id uuid, p_conversation_id uuid, p_role public.message_role, p_content text,
    p_metadata jsonb, p_client_message_id uuid, p_reply_to uuid
) returns jsonb
language plpgsql volatile
set search_path = ''
as $$
declare
    v_id uuid;
    v_created_at timestamptz;
begin
    -- The conversation first: one statement both proves it is the user's (PT404 otherwise)
    -- and moves last_message_at to now(), the new message's created_at.
    update public.conversations as c
    set last_message_at = pg_catalog.now()
    where c.user_id = p_user_id and c.id = p_conversation_id;
    if not found then
        perform app_private.raise_not_found('conversation', p_conversation_id);
    end if;

    insert into public.messages (
        user_id, conversation_id, role, content, metadata, client_message_id, reply_to
    )
    values (
        p_user_id, p_conversation_id, p_role, p_content, p_metadata, p_client_message_id, p_reply_to
    )
    returning id, created_at into v_id, v_created_at;

    return pg_catalog.jsonb_build_object(
        'message_id', v_id, 'created_at', v_created_at, 'replayed', false
    );
end
$$;

comment on function app_private.append_message(
    uuid, uuid, public.message_role, text, jsonb, uuid, uuid
) is
'Moves the conversation''s last_message_at (PT404 if not the user''s) and inserts the message.';

create or replace function app_private.post_message(
    p_conversation_id uuid, p_client_message_id uuid, p_content text
) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
    v_content text := app_private.message_content(p_content);
    v_existing public.messages;
begin
    if p_conversation_id is null then
        perform app_private.raise_invalid('conversation_id', 'is required');
    end if;
    if p_client_message_id is null then
        perform app_private.raise_invalid('client_message_id', 'is required');
    end if;
    perform app_private.lock_user(v_uid);
    -- A replay first (its message proves the conversation); a new message's conversation
    -- is checked by append_message, in the statement that updates it.
    select m.* into v_existing
    from public.messages as m
    where m.user_id = v_uid and m.conversation_id = p_conversation_id
        and m.client_message_id = p_client_message_id;
    if found then
        if v_existing.content <> v_content then
            perform app_private.raise_conflict(
                'client_message_id', 'already used for a message with other content'
            );
        end if;
        return pg_catalog.jsonb_build_object(
            'message_id', v_existing.id, 'created_at', v_existing.created_at, 'replayed', true
        );
    end if;

    return app_private.append_message(
        v_uid, p_conversation_id, 'user', v_content, '{}'::jsonb, p_client_message_id, null
    );
end
$$;

comment on function app_private.post_message(uuid, uuid, text) is
'Body of public.post_message; security definer, checks the caller itself.';

create or replace function app_private.record_assistant_message(
    p_conversation_id uuid, p_content text, p_metadata jsonb, p_reply_to uuid
) returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
    v_content text;
    v_metadata jsonb;
    v_owner uuid;
    v_existing public.messages;
begin
    perform app_private.require_service_role('record_assistant_message');
    v_content := app_private.message_content(p_content);
    v_metadata := coalesce(app_private.json_object(p_metadata, 'metadata'), '{}'::jsonb);
    if p_conversation_id is null then
        perform app_private.raise_invalid('conversation_id', 'is required');
    end if;
    select c.user_id into v_owner from public.conversations as c where c.id = p_conversation_id;
    if not found then
        perform app_private.raise_not_found('conversation', p_conversation_id);
    end if;
    perform app_private.lock_user(v_owner);
    if p_reply_to is not null then
        if not exists (
            select from public.messages as m
            where m.user_id = v_owner and m.conversation_id = p_conversation_id
                and m.id = p_reply_to
        ) then
            perform app_private.raise_not_found('message', p_reply_to);
        end if;
        select m.* into v_existing
        from public.messages as m
        where m.user_id = v_owner and m.conversation_id = p_conversation_id
            and m.reply_to = p_reply_to and m.role = 'assistant'
        order by m.created_at
        limit 1;
        if found then
            if v_existing.content <> v_content or v_existing.metadata <> v_metadata then
                perform app_private.raise_conflict(
                    'reply_to', 'the coach already answered this message with another reply'
                );
            end if;
            return pg_catalog.jsonb_build_object(
                'message_id', v_existing.id, 'created_at', v_existing.created_at, 'replayed', true
            );
        end if;
    end if;

    return app_private.append_message(
        v_owner, p_conversation_id, 'assistant', v_content, v_metadata, null, p_reply_to
    );
end
$$;

comment on function app_private.record_assistant_message(uuid, text, jsonb, uuid) is
'Body of public.record_assistant_message; security definer, service role only.';

create or replace function public.post_message(
    conversation_id uuid, client_message_id uuid, content text
) returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
    return app_private.post_message(conversation_id, client_message_id, content);
end
$$;

comment on function public.post_message(uuid, uuid, text) is
'Append the caller''s message to their conversation; idempotent on client_message_id.';

create or replace function public.record_assistant_message(
    conversation_id uuid, content text, metadata jsonb default '{}'::jsonb, reply_to uuid default null
) returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
    return app_private.record_assistant_message(conversation_id, content, metadata, reply_to);
end
$$;

comment on function public.record_assistant_message(uuid, text, jsonb, uuid) is
'Append the coach''s reply (AI service, service role); idempotent per reply_to.';

revoke all on function app_private.message_content(text) from public;
revoke all on function app_private.append_message(
    uuid, uuid, public.message_role, text, jsonb, uuid, uuid
) from public;
revoke all on function app_private.post_message(uuid, uuid, text) from public, anon, service_role;
grant execute on function app_private.post_message(uuid, uuid, text) to authenticated;
revoke all on function public.post_message(uuid, uuid, text) from public, anon, service_role;
grant execute on function public.post_message(uuid, uuid, text) to authenticated;
revoke all on function app_private.record_assistant_message(uuid, text, jsonb, uuid)
from public, anon, authenticated;
grant execute on function app_private.record_assistant_message(uuid, text, jsonb, uuid)
to service_role;
revoke all on function public.record_assistant_message(uuid, text, jsonb, uuid)
from public, anon, authenticated;
grant execute on function public.record_assistant_message(uuid, text, jsonb, uuid)
to service_role;
-- coachdb: end db/functions/060_messages.sql

-- db/functions/070_get_chat_context.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/070_get_chat_context.sql
-- get_chat_context: what the AI needs for its next reply in one call: the caller's profile,
-- active plan, the workouts from today through today + 6 in the caller's time zone, and
-- the last N messages of the conversation, oldest first. Every read is an index range scan
-- led by the owner, so its cost does not grow with the table.

create or replace function app_private.get_chat_context(p_conversation_id uuid, p_message_limit int)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
    v_limit int := coalesce(p_message_limit, 20);
    v_today date;
    v_profile jsonb;
    v_plan jsonb;
    v_plan_id uuid;
begin
    if p_conversation_id is null then
        perform app_private.raise_invalid('conversation_id', 'is required');
    end if;
    if v_limit not between 1 and 100 then
        perform app_private.raise_invalid('message_limit', 'must be an integer from 1 to 100');
    end if;
    if not exists (
        select from public.conversations as c
        where c.user_id = v_uid and c.id = p_conversation_id
    ) then
        perform app_private.raise_not_found('conversation', p_conversation_id);
    end if;

    select
        pg_catalog.jsonb_build_object(
            'id', p.id, 'display_name', p.display_name, 'goal', p.goal,
            'experience', p.experience, 'days_per_week', p.days_per_week, 'units', p.units,
            'timezone', p.timezone, 'onboarded_at', p.onboarded_at
        ),
        (pg_catalog.now() at time zone p.timezone)::date
    into v_profile, v_today
    from public.profiles as p
    where p.auth_user_id = v_uid;
    v_today := coalesce(v_today, (pg_catalog.now() at time zone 'UTC')::date);

    select
        pg_catalog.jsonb_build_object(
            'id', pl.id, 'name', pl.name, 'goal', pl.goal, 'starts_on', pl.starts_on,
            'weeks', pl.weeks, 'activated_at', pl.activated_at
        ),
        pl.id
    into v_plan, v_plan_id
    from public.plans as pl
    where pl.user_id = v_uid and pl.status = 'active';

    return pg_catalog.jsonb_build_object(
        'profile', v_profile,
        'active_plan', v_plan,
        'upcoming_workouts', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'id', w.id, 'scheduled_on', w.scheduled_on, 'kind', w.kind, 'title', w.title,
                'targets', w.targets, 'status', w.status
            ) order by w.scheduled_on)
            from public.workouts as w
            where w.user_id = v_uid and w.plan_id = v_plan_id
                and w.scheduled_on between v_today and v_today + 6
        ), '[]'::jsonb),
        'messages', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'id', last_n.id, 'role', last_n.role, 'content', last_n.content,
                'created_at', last_n.created_at
            ) order by last_n.created_at, last_n.id)
            from (
                select m.id, m.role, m.content, m.created_at
                from public.messages as m
                where m.user_id = v_uid and m.conversation_id = p_conversation_id
                order by m.created_at desc, m.id desc
                limit v_limit
            ) as last_n
        ), '[]'::jsonb)
    );
end
$$;

comment on function app_private.get_chat_context(uuid, int) is
'Body of public.get_chat_context; security definer, checks the caller itself.';

create or replace function public.get_chat_context(conversation_id uuid, message_limit int default 20)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
    return app_private.get_chat_context(conversation_id, message_limit);
end
$$;

comment on function public.get_chat_context(uuid, int) is
'Profile, active plan, the next 7 days of workouts and the last N (1-100) messages, oldest first.';

revoke all on function app_private.get_chat_context(uuid, int) from public, anon, service_role;
grant execute on function app_private.get_chat_context(uuid, int) to authenticated;
revoke all on function public.get_chat_context(uuid, int) from public, anon, service_role;
grant execute on function public.get_chat_context(uuid, int) to authenticated;
-- coachdb: end db/functions/070_get_chat_context.sql
