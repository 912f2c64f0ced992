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
