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
