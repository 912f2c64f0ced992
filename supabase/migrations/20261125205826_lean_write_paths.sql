-- lean_write_paths: written by `coachdb diff` from the edited tree (db/) against the previous state
-- (supabase/migrations), by the diff engine results 2.0.1789346060; verified: applied to the previous
-- state it gives the tree's catalog. Above each statement: the locks it took, rewrites and data
-- loss as measured on a copy of the previous state; squawk's findings.
-- Statements that need a look: 0.

-- db push runs this file in one transaction: no lock is waited for longer than this.
set local lock_timeout = '4s';

-- db/functions/000_identity.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/000_identity.sql
-- Identity and per-user serialisation, shared by every RPC.
-- Identity comes from auth.uid() alone; a missing, malformed or unknown subject is 42501.

create or replace function app_private.current_user_id() returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
    v_uid uuid;
begin
    begin
        v_uid := auth.uid();
    exception when invalid_text_representation then
        raise exception 'not signed in: the JWT sub claim is not a user id'
        using errcode = '42501';
    end;
    if v_uid is null then
        raise exception 'not signed in: this call needs an authenticated user'
        using errcode = '42501';
    end if;
    if not exists (select from auth.users as u where u.id = v_uid) then
        raise exception 'not signed in: the JWT subject is not a known user'
        using errcode = '42501';
    end if;
    return v_uid;
end
$$;

comment on function app_private.current_user_id() is
'The caller''s user id from auth.uid(); raises 42501 when there is none or it is unknown.';

-- plpgsql, not sql: a `language sql` function with a SET clause is never inlined, so its body
-- was parsed and planned on every call (a quarter of complete_workout's own time in the server);
-- plpgsql keeps the plan for the session.
create or replace function app_private.lock_user(p_user_id uuid) returns void
language plpgsql volatile
set search_path = ''
as $$
begin
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('coachdb.user:' || p_user_id::text, 0)
    );
end
$$;

comment on function app_private.lock_user(uuid) is
'Serialises one user''s writes: a transaction-level advisory lock, safe behind a pooler.';

create or replace function app_private.require_service_role(p_operation text) returns void
language plpgsql stable
set search_path = ''
as $$
begin
    if auth.role() is distinct from 'service_role' then
        raise exception '% is for the service role (the AI service) only', p_operation
        using errcode = '42501';
    end if;
end
$$;

comment on function app_private.require_service_role(text) is
'Raises 42501 unless the request''s role claim is service_role; the caller check of service RPCs.';

revoke all on function app_private.current_user_id() from public;
revoke all on function app_private.require_service_role(text) from public;
revoke all on function app_private.lock_user(uuid) from public;
-- coachdb: end db/functions/000_identity.sql

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

create or replace function app_private.require_object(p_value jsonb, p_field text)
returns jsonb
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_value is null then
        perform app_private.raise_invalid(p_field, 'is required');
    end if;
    if pg_catalog.jsonb_typeof(p_value) <> 'object' then
        perform app_private.raise_invalid(p_field, 'must be a JSON object');
    end if;
    return p_value;
end
$$;

comment on function app_private.require_object(jsonb, text) is
'Returns the value if it is a JSON object; 22023 otherwise.';

create or replace function app_private.reject_unknown_keys(
    p_value jsonb, p_field text, p_allowed text[]
) returns void
language plpgsql immutable
set search_path = ''
as $$
declare
    v_key text;
begin
    -- The common case, only known keys, is one expression; the query that names the
    -- first unknown key runs only when there is one.
    if p_value operator(pg_catalog.-) p_allowed operator(pg_catalog.=) '{}'::jsonb then
        return;
    end if;
    select k into v_key
    from pg_catalog.jsonb_object_keys(p_value) as k
    where k <> all(p_allowed)
    order by k
    limit 1;
    if found then
        perform app_private.raise_invalid(
            p_field || '.' || v_key,
            'is not a known field (known: ' || pg_catalog.array_to_string(p_allowed, ', ') || ')'
        );
    end if;
end
$$;

comment on function app_private.reject_unknown_keys(jsonb, text, text[]) is
'22023 for the first key of an object that is not in the closed set of allowed keys.';

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
revoke all on function app_private.require_object(jsonb, text) from public;
revoke all on function app_private.reject_unknown_keys(jsonb, text, text[]) from public;
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
