-- conversations: chat threads with the AI coach, optionally tied to one of the owner's plans.

create table public.conversations (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    plan_id uuid,
    title text,
    last_message_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint conversations_user_id_id_unique unique (user_id, id),
    constraint conversations_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
    constraint conversations_plan_owner_fkey foreign key (user_id, plan_id)
    references public.plans (user_id, id) on delete set null (plan_id),
    constraint conversations_title_length check (char_length(title) between 1 and 200)
);

create index conversations_user_id_plan_id_idx on public.conversations (user_id, plan_id);
create index conversations_user_id_last_message_at_idx
on public.conversations (user_id, last_message_at desc);

comment on index public.conversations_user_id_plan_id_idx is
'Covers the plan foreign key (deletes and set null on plans).';
comment on index public.conversations_user_id_last_message_at_idx is
'A user''s threads, most recent first.';

comment on table public.conversations is 'Chat threads between a user and the AI coach.';
comment on column public.conversations.id is 'Conversation id.';
comment on column public.conversations.user_id is 'Owner; the plan''s owner when plan_id is set.';
comment on column public.conversations.plan_id is 'The plan the thread is about, if any.';
comment on column public.conversations.title is 'Optional title, 1-200 characters.';
comment on column public.conversations.last_message_at is 'When the newest message was added.';
comment on column public.conversations.created_at is 'When the row was created.';
comment on column public.conversations.updated_at is 'When the row last changed (trigger).';

create trigger conversations_set_updated_at
before update on public.conversations
for each row execute function app_private.set_updated_at();

-- Column rules for every write path (the RPCs, a signed-in user's direct update through the
-- column grants, the service role): the same rules the RPCs apply, defined once in
-- db/functions/005_validation.sql. Text is stored trimmed (the trigger trims, as the RPCs
-- do) and a violation is 22023 naming the column, like an RPC's bad input.
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

create trigger conversations_column_rules
before insert or update of title on public.conversations
for each row execute function app_private.conversations_column_rules();
