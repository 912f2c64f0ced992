-- closed_object_validation: written by `coachdb diff` from the edited tree (db/) against the previous state
-- (supabase/migrations), by the diff engine results 2.0.1789346060; verified: applied to the previous
-- state it gives the tree's catalog. Above each statement: the locks it took, rewrites and data
-- loss as measured on a copy of the previous state; squawk's findings.
-- Statements that need a look: 0.

-- db push runs this file in one transaction: no lock is waited for longer than this.
set local lock_timeout = '4s';

-- squawk: ban-drop-function: Dropping a function may break existing clients.
drop function if exists "app_private"."reject_unknown_keys"(p_value jsonb, p_field text, p_allowed text[]);

-- squawk: ban-drop-function: Dropping a function may break existing clients.
drop function if exists "app_private"."require_object"(p_value jsonb, p_field text);

-- db/functions/005_validation.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/005_validation.sql
-- Input validation helpers. Every failure is SQLSTATE 22023 with a message that starts with
-- the field's path (`profile.days_per_week: must be an integer from 1 to 7`), and the same
-- path in the error's column field. JSON null counts as absent.
--
-- Text rules are defined once here and used by every write path: the RPCs (through
-- json_text) and direct table writes (the tables' column-rule triggers call clean_text and
-- check_json_object). Blank means whitespace of any kind: every character Unicode calls
-- White_Space, plus the ASCII separators U+001C-U+001F (exactly Python's str.isspace()), not
-- only the space that btrim() removes by default.

create or replace function app_private.raise_invalid(p_field text, p_problem text) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
    raise exception '%: %', p_field, p_problem
    using errcode = '22023', column = p_field;
end
$$;

comment on function app_private.raise_invalid(text, text) is
'Raises 22023 naming the field; the one way validation fails.';

create or replace function app_private.closed_object(
    p_value jsonb, p_field text, p_allowed text[]
) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
    v_key text;
begin
    if p_value is null then
        perform app_private.raise_invalid(p_field, 'is required');
    end if;
    if pg_catalog.jsonb_typeof(p_value) <> 'object' then
        perform app_private.raise_invalid(p_field, 'must be a JSON object');
    end if;
    -- The common case, only known keys, is one expression; the query that names the
    -- first unknown key runs only when there is one.
    if p_value operator(pg_catalog.-) p_allowed operator(pg_catalog.<>) '{}'::jsonb then
        select k into v_key
        from pg_catalog.jsonb_object_keys(p_value) as k
        where k <> all(p_allowed)
        order by k
        limit 1;
        perform app_private.raise_invalid(
            p_field || '.' || v_key,
            'is not a known field (known: ' || pg_catalog.array_to_string(p_allowed, ', ') || ')'
        );
    end if;
    return p_value;
end
$$;

comment on function app_private.closed_object(jsonb, text, text[]) is
'Returns the value if it is a JSON object whose keys are all in p_allowed; 22023 naming the field otherwise.';

create or replace function app_private.strip_whitespace(p_text text) returns text
language sql immutable parallel safe
set search_path = ''
as $$
    select pg_catalog.btrim(
        p_text,
        E' \t\n\u000b\f\r\u001c\u001d\u001e\u001f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003'
        || E'\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'
    )
$$;

comment on function app_private.strip_whitespace(text) is
'The text without leading and trailing whitespace of any kind (tabs, newlines, no-break spaces).';

create or replace function app_private.clean_text(
    p_text text, p_field text, p_min int, p_max int, p_required boolean default false
) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    v_text text := app_private.strip_whitespace(p_text);
begin
    if v_text is null then
        if p_required then
            perform app_private.raise_invalid(p_field, 'is required');
        end if;
        return null;
    end if;
    if v_text = '' and p_min > 0 then
        perform app_private.raise_invalid(p_field, 'must not be blank');
    end if;
    if pg_catalog.char_length(v_text) not between p_min and p_max then
        perform app_private.raise_invalid(
            p_field, pg_catalog.format('must be %s to %s characters', p_min, p_max)
        );
    end if;
    return v_text;
end
$$;

comment on function app_private.clean_text(text, text, int, int, boolean) is
'The one text rule: trimmed of all whitespace, not blank, p_min..p_max characters; 22023 otherwise.';

create or replace function app_private.json_text(
    p_value jsonb, p_field text, p_min int, p_max int, p_required boolean default false
) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
        if p_required then
            perform app_private.raise_invalid(p_field, 'is required');
        end if;
        return null;
    end if;
    if pg_catalog.jsonb_typeof(p_value) <> 'string' then
        perform app_private.raise_invalid(p_field, 'must be a string');
    end if;
    return app_private.clean_text(p_value #>> '{}', p_field, p_min, p_max);
end
$$;

comment on function app_private.json_text(jsonb, text, int, int, boolean) is
'A JSON string under clean_text''s rule (trimmed, not blank, p_min..p_max characters); null when absent.';

create or replace function app_private.json_int(
    p_value jsonb, p_field text, p_min int, p_max int, p_required boolean default false
) returns int
language plpgsql immutable
set search_path = ''
as $$
declare
    v_num numeric;
begin
    if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
        if p_required then
            perform app_private.raise_invalid(p_field, 'is required');
        end if;
        return null;
    end if;
    if pg_catalog.jsonb_typeof(p_value) = 'number' then
        v_num := p_value::numeric;
    end if;
    if v_num is null or v_num <> pg_catalog.trunc(v_num) or v_num not between p_min and p_max then
        perform app_private.raise_invalid(
            p_field, pg_catalog.format('must be an integer from %s to %s', p_min, p_max)
        );
    end if;
    return v_num::int;
end
$$;

comment on function app_private.json_int(jsonb, text, int, int, boolean) is
'A JSON integer within p_min..p_max; null when absent and not required.';

create or replace function app_private.json_number(
    p_value jsonb, p_field text, p_min numeric, p_max numeric
) returns numeric
language plpgsql immutable
set search_path = ''
as $$
declare
    v_num numeric;
begin
    if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    if pg_catalog.jsonb_typeof(p_value) = 'number' then
        v_num := p_value::numeric;
    end if;
    if v_num is null or v_num not between p_min and p_max then
        perform app_private.raise_invalid(
            p_field, pg_catalog.format('must be a number from %s to %s', p_min, p_max)
        );
    end if;
    return v_num;
end
$$;

comment on function app_private.json_number(jsonb, text, numeric, numeric) is
'A JSON number within p_min..p_max; null when absent.';

create or replace function app_private.json_label(
    p_value jsonb, p_field text, p_allowed text[], p_required boolean default false
) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    v_text text;
begin
    if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
        if p_required then
            perform app_private.raise_invalid(p_field, 'is required');
        end if;
        return null;
    end if;
    if pg_catalog.jsonb_typeof(p_value) = 'string' then
        v_text := p_value #>> '{}';
    end if;
    if v_text is null or v_text <> all(p_allowed) then
        perform app_private.raise_invalid(
            p_field, 'must be one of ' || pg_catalog.array_to_string(p_allowed, ', ')
        );
    end if;
    return v_text;
end
$$;

comment on function app_private.json_label(jsonb, text, text[], boolean) is
'A JSON string from a closed set (an enum''s labels); null when absent and not required.';

create or replace function app_private.json_date(
    p_value jsonb, p_field text, p_required boolean default false
) returns date
language plpgsql immutable
set search_path = ''
as $$
declare
    v_text text;
    v_date date;
begin
    if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
        if p_required then
            perform app_private.raise_invalid(p_field, 'is required');
        end if;
        return null;
    end if;
    if pg_catalog.jsonb_typeof(p_value) = 'string' then
        v_text := p_value #>> '{}';
    end if;
    if v_text is not null and v_text ~ '^\d{4}-\d{2}-\d{2}$' then
        begin
            v_date := v_text::date;
        exception when data_exception then
            v_date := null;
        end;
    end if;
    if v_date is null or v_date not between date '2000-01-01' and date '2099-12-31' then
        perform app_private.raise_invalid(
            p_field, 'must be an ISO date (YYYY-MM-DD) from 2000-01-01 to 2099-12-31'
        );
    end if;
    return v_date;
end
$$;

comment on function app_private.json_date(jsonb, text, boolean) is
'An ISO date string (YYYY-MM-DD) in 2000-2099; null when absent and not required.';

create or replace function app_private.check_json_object(p_value jsonb, p_field text) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
        perform app_private.raise_invalid(p_field, 'is required');
    end if;
    if pg_catalog.jsonb_typeof(p_value) <> 'object' then
        perform app_private.raise_invalid(p_field, 'must be a JSON object');
    end if;
    if pg_catalog.octet_length(p_value::text) > 16384 then
        perform app_private.raise_invalid(p_field, 'must be at most 16384 bytes of JSON');
    end if;
    return p_value;
end
$$;

comment on function app_private.check_json_object(jsonb, text) is
'The one rule for metadata-like values: a JSON object of at most 16 KiB; 22023 otherwise.';

create or replace function app_private.json_object(p_value jsonb, p_field text) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_value is null or pg_catalog.jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    return app_private.check_json_object(p_value, p_field);
end
$$;

comment on function app_private.json_object(jsonb, text) is
'A JSON object of at most 16 KiB (check_json_object); null when absent.';

create or replace function app_private.timezone_name(p_value jsonb, p_field text) returns text
language plpgsql stable
set search_path = ''
as $$
declare
    v_name text := app_private.json_text(p_value, p_field, 1, 64);
begin
    if v_name is null then
        return null;
    end if;
    if not exists (select from app_private.known_timezones as tz where tz.name = v_name) then
        perform app_private.raise_invalid(
            p_field, 'must be an IANA time zone name known to the server, such as Europe/Paris'
        );
    end if;
    return v_name;
end
$$;

comment on function app_private.timezone_name(jsonb, text) is
'A time zone name from app_private.known_timezones (a key lookup, not pg_timezone_names).';

create or replace function app_private.request_hash(p_payload jsonb) returns text
language sql immutable
set search_path = ''
as $$
    select pg_catalog.encode(
        pg_catalog.sha256(pg_catalog.convert_to(p_payload::text, 'UTF8')), 'hex'
    )
$$;

comment on function app_private.request_hash(jsonb) is
'Fingerprint of a request: sha256 of its canonical (jsonb) text.';

create or replace function app_private.user_today(p_user_id uuid) returns date
language sql stable
set search_path = ''
as $$
    select (pg_catalog.now() at time zone coalesce(
        (select p.timezone from public.profiles as p where p.auth_user_id = p_user_id), 'UTC'
    ))::date
$$;

comment on function app_private.user_today(uuid) is
'The user''s today in their profile''s time zone (UTC before onboarding).';

revoke all on function app_private.raise_invalid(text, text) from public;
revoke all on function app_private.closed_object(jsonb, text, text[]) from public;
revoke all on function app_private.strip_whitespace(text) from public;
revoke all on function app_private.clean_text(text, text, int, int, boolean) from public;
revoke all on function app_private.json_text(jsonb, text, int, int, boolean) from public;
revoke all on function app_private.json_int(jsonb, text, int, int, boolean) from public;
revoke all on function app_private.json_number(jsonb, text, numeric, numeric) from public;
revoke all on function app_private.json_label(jsonb, text, text[], boolean) from public;
revoke all on function app_private.json_date(jsonb, text, boolean) from public;
revoke all on function app_private.check_json_object(jsonb, text) from public;
revoke all on function app_private.json_object(jsonb, text) from public;
revoke all on function app_private.timezone_name(jsonb, text) from public;
revoke all on function app_private.request_hash(jsonb) from public;
revoke all on function app_private.user_today(uuid) from public;

-- The tables' column-rule triggers run as the writer (a signed-in user, the service role),
-- so the rules they call are executable by those roles; anon writes nothing.
grant execute on function app_private.raise_invalid(text, text),
app_private.strip_whitespace(text),
app_private.clean_text(text, text, int, int, boolean),
app_private.check_json_object(jsonb, text)
to authenticated, service_role;
-- coachdb: end db/functions/005_validation.sql

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
-- coachdb: end db/functions/040_workout_status.sql
