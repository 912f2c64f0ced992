-- rpc_wrappers_in_plpgsql: written by `coachdb diff` from the edited tree (db/) against the previous state
-- (supabase/migrations), by the diff engine results 2.0.1789346060; verified: applied to the previous
-- state it gives the tree's catalog. Above each statement: the locks it took, rewrites and data
-- loss as measured on a copy of the previous state; squawk's findings.
-- Statements that need a look: 0.

-- db push runs this file in one transaction: no lock is waited for longer than this.
set local lock_timeout = '4s';

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

-- plpgsql, not sql, here and below: a sql function with a SET clause is never inlined, so its
-- body would be parsed and planned on every call; plpgsql keeps the plan for the session.
create or replace function app_private.strip_whitespace(p_text text) returns text
language plpgsql immutable parallel safe
set search_path = ''
as $$
begin
    return pg_catalog.btrim(
        p_text,
        E' \t\n\u000b\f\r\u001c\u001d\u001e\u001f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003'
        || E'\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'
    );
end
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
language plpgsql immutable
set search_path = ''
as $$
begin
    return pg_catalog.encode(
        pg_catalog.sha256(pg_catalog.convert_to(p_payload::text, 'UTF8')), 'hex'
    );
end
$$;

comment on function app_private.request_hash(jsonb) is
'Fingerprint of a request: sha256 of its canonical (jsonb) text.';

create or replace function app_private.user_today(p_user_id uuid) returns date
language plpgsql stable
set search_path = ''
as $$
begin
    return (pg_catalog.now() at time zone coalesce(
        (select p.timezone from public.profiles as p where p.auth_user_id = p_user_id), 'UTC'
    ))::date;
end
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

-- db/functions/030_activate_plan.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/030_activate_plan.sql
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
-- coachdb: end db/functions/030_activate_plan.sql

-- db/functions/050_start_conversation.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/050_start_conversation.sql
-- start_conversation: a new chat thread for the caller, optionally about one of their plans.

create or replace function app_private.start_conversation(p_title text, p_plan_id uuid)
returns jsonb
language plpgsql volatile security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
    v_title text;
    v_id uuid;
begin
    v_title := app_private.clean_text(p_title, 'title', 1, 200);
    if p_plan_id is not null and not exists (
        select from public.plans as pl where pl.user_id = v_uid and pl.id = p_plan_id
    ) then
        perform app_private.raise_not_found('plan', p_plan_id);
    end if;

    insert into public.conversations (user_id, plan_id, title)
    values (v_uid, p_plan_id, v_title)
    returning id into v_id;

    return pg_catalog.jsonb_build_object('conversation_id', v_id);
end
$$;

comment on function app_private.start_conversation(text, uuid) is
'Body of public.start_conversation; security definer, checks the caller itself.';

create or replace function public.start_conversation(title text default null, plan_id uuid default null)
returns jsonb
language plpgsql volatile
set search_path = ''
as $$
begin
    return app_private.start_conversation(title, plan_id);
end
$$;

comment on function public.start_conversation(text, uuid) is
'Start a chat thread with the coach, optionally about one of the caller''s plans.';

revoke all on function app_private.start_conversation(text, uuid) from public, anon, service_role;
grant execute on function app_private.start_conversation(text, uuid) to authenticated;
revoke all on function public.start_conversation(text, uuid) from public, anon, service_role;
grant execute on function public.start_conversation(text, uuid) to authenticated;
-- coachdb: end db/functions/050_start_conversation.sql

-- db/functions/080_export_my_data.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/080_export_my_data.sql
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
-- coachdb: end db/functions/080_export_my_data.sql

-- db/functions/090_purge_idempotency_keys.sql changed: its new text, re-run whole (it is written to be re-runnable).

-- coachdb: begin db/functions/090_purge_idempotency_keys.sql
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
-- coachdb: end db/functions/090_purge_idempotency_keys.sql
