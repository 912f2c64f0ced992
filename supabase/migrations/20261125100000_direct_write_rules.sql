-- Direct-write rules (issue 15): one text rule and one metadata cap for every write path.
-- Takes a database of the baseline tree to the declared state in db/: whitespace of any kind
-- counts as blank and is trimmed (app_private.strip_whitespace, clean_text); metadata-like
-- values are objects of at most 16 KiB (check_json_object); the RPCs that trimmed with
-- btrim() use them; and profiles, plans and conversations get column-rule triggers so a
-- signed-in user's direct update obeys the same rules (22023 naming the column).
-- Every statement is create-or-replace or new: no table is rewritten and no row changes;
-- each create trigger takes a brief SHARE ROW EXCLUSIVE lock on its table.

-- from db/functions/005_validation.sql

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

revoke all on function app_private.strip_whitespace(text) from public;

revoke all on function app_private.clean_text(text, text, int, int, boolean) from public;

revoke all on function app_private.check_json_object(jsonb, text) from public;

grant execute on function app_private.raise_invalid(text, text),
app_private.strip_whitespace(text),
app_private.clean_text(text, text, int, int, boolean),
app_private.check_json_object(jsonb, text)
to authenticated, service_role;

-- from db/functions/040_workout_status.sql

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

-- from db/functions/050_start_conversation.sql

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

-- from db/functions/060_messages.sql

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

-- from db/schema/010_profiles.sql

create or replace function app_private.profiles_column_rules() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.display_name := app_private.clean_text(new.display_name, 'display_name', 1, 80, true);
    new.metadata := app_private.check_json_object(new.metadata, 'metadata');
    if new.experience is null then
        perform app_private.raise_invalid('experience', 'is required');
    end if;
    if new.units is null then
        perform app_private.raise_invalid('units', 'is required');
    end if;
    return new;
end
$$;

comment on function app_private.profiles_column_rules() is
'Trigger: display_name, experience, units, metadata of public.profiles obey the RPCs'' rules on every write (22023 naming the column).';

revoke all on function app_private.profiles_column_rules() from public;

create or replace trigger profiles_column_rules
before insert or update of display_name, experience, units, metadata on public.profiles
for each row execute function app_private.profiles_column_rules();

-- from db/schema/020_plans.sql

create or replace function app_private.plans_column_rules() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.name := app_private.clean_text(new.name, 'name', 1, 120, true);
    new.metadata := app_private.check_json_object(new.metadata, 'metadata');
    return new;
end
$$;

comment on function app_private.plans_column_rules() is
'Trigger: name, metadata of public.plans obey the RPCs'' rules on every write (22023 naming the column).';

revoke all on function app_private.plans_column_rules() from public;

create or replace trigger plans_column_rules
before insert or update of name, metadata on public.plans
for each row execute function app_private.plans_column_rules();

-- from db/schema/040_conversations.sql

create or replace function app_private.conversations_column_rules() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.title := app_private.clean_text(new.title, 'title', 1, 200);
    return new;
end
$$;

comment on function app_private.conversations_column_rules() is
'Trigger: title of public.conversations obey the RPCs'' rules on every write (22023 naming the column).';

revoke all on function app_private.conversations_column_rules() from public;

create or replace trigger conversations_column_rules
before insert or update of title on public.conversations
for each row execute function app_private.conversations_column_rules();
