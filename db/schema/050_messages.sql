-- messages: the turns of a conversation. A user's message carries the client's id for it,
-- unique per conversation, so a retried post is recognised.

create table public.messages (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    conversation_id uuid not null,
    role public.message_role not null,
    content text not null,
    metadata jsonb not null default '{}'::jsonb,
    client_message_id uuid,
    reply_to uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint messages_user_id_id_unique unique (user_id, id),
    constraint messages_client_message_id_unique
    unique (user_id, conversation_id, client_message_id),
    constraint messages_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
    constraint messages_conversation_owner_fkey foreign key (user_id, conversation_id)
    references public.conversations (user_id, id) on delete cascade,
    constraint messages_reply_to_owner_fkey foreign key (user_id, reply_to)
    references public.messages (user_id, id) on delete set null (reply_to),
    constraint messages_content_length check (char_length(content) between 1 and 8000),
    constraint messages_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);

create index messages_user_id_conversation_id_created_at_idx
on public.messages (user_id, conversation_id, created_at desc, id desc);
create index messages_user_id_reply_to_idx on public.messages (user_id, reply_to)
where reply_to is not null;

comment on index public.messages_user_id_conversation_id_created_at_idx is
'The last N messages of a conversation, newest first.';
comment on index public.messages_user_id_reply_to_idx is 'Covers the reply_to foreign key.';

comment on table public.messages is 'Turns of a conversation: the user''s and the coach''s.';
comment on column public.messages.id is 'Message id.';
comment on column public.messages.user_id is 'Owner; always the conversation''s owner.';
comment on column public.messages.conversation_id is 'The thread this message belongs to.';
comment on column public.messages.role is 'user, assistant or system.';
comment on column public.messages.content is 'The text, 1-8000 characters.';
comment on column public.messages.metadata is 'Free-form extras (a JSON object).';
comment on column public.messages.client_message_id is
'The client''s id for a user message; makes post_message idempotent.';
comment on column public.messages.reply_to is 'The message this one answers, if any.';
comment on column public.messages.created_at is 'When the row was created.';
comment on column public.messages.updated_at is 'When the row last changed (trigger).';

create trigger messages_set_updated_at
before update on public.messages
for each row execute function app_private.set_updated_at();
