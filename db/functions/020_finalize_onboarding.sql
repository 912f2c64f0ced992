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
    v_profile jsonb := app_private.closed_object(
        p_profile, 'profile', '{display_name,goal,experience,days_per_week,units,timezone,metadata}'
    );
    v_plan jsonb := app_private.closed_object(
        coalesce(p_plan, '{}'::jsonb), 'plan', '{name,starts_on,weeks,workouts}'
    );
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
    -- Validate everything before taking a lock or writing anything. An optional field the
    -- client did not send is not validated (each check is a function call, and absent means
    -- null to every one of them).
    v_display_name := app_private.json_text(
        v_profile -> 'display_name', 'profile.display_name', 1, 80, true
    );
    v_goal := app_private.json_label(
        v_profile -> 'goal', 'profile.goal',
        enum_range(null::public.fitness_goal)::text [], true
    )::public.fitness_goal;
    v_experience := coalesce(case when v_profile operator(pg_catalog.?) 'experience' then
        app_private.json_label(
            v_profile -> 'experience', 'profile.experience',
            enum_range(null::public.experience_level)::text []
        ) end, 'beginner')::public.experience_level;
    v_days := app_private.json_int(
        v_profile -> 'days_per_week', 'profile.days_per_week', 1, 7, true
    );
    v_units := coalesce(case when v_profile operator(pg_catalog.?) 'units' then
        app_private.json_label(
            v_profile -> 'units', 'profile.units', enum_range(null::public.unit_system)::text []
        ) end, 'metric')::public.unit_system;
    v_timezone := coalesce(
        app_private.timezone_name(v_profile -> 'timezone', 'profile.timezone'), 'UTC'
    );
    v_metadata := coalesce(case when v_profile operator(pg_catalog.?) 'metadata' then
        app_private.json_object(v_profile -> 'metadata', 'profile.metadata') end, '{}'::jsonb
    );

    v_name := coalesce(
        case when v_plan operator(pg_catalog.?) 'name' then
            app_private.json_text(v_plan -> 'name', 'plan.name', 1, 120) end,
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
            v_item := app_private.closed_object(
                v_given -> v_i, v_field, '{scheduled_on,kind,title,targets}'
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
