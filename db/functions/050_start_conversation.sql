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
