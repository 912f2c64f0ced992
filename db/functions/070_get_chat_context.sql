-- get_chat_context: what the AI needs for its next reply in one call: the caller's profile,
-- active plan, the workouts from today through today + 6 in the caller's time zone, and
-- the last N messages of the conversation, oldest first. Every read is an index range scan
-- led by the owner, so its cost does not grow with the table.

create or replace function app_private.get_chat_context(p_conversation_id uuid, p_message_limit int)
returns jsonb
language plpgsql stable security definer
set search_path = ''
as $$
declare
    v_uid uuid := app_private.current_user_id();
    v_limit int := coalesce(p_message_limit, 20);
    v_today date;
    v_profile jsonb;
    v_plan jsonb;
    v_plan_id uuid;
begin
    if p_conversation_id is null then
        perform app_private.raise_invalid('conversation_id', 'is required');
    end if;
    if v_limit not between 1 and 100 then
        perform app_private.raise_invalid('message_limit', 'must be an integer from 1 to 100');
    end if;
    if not exists (
        select from public.conversations as c
        where c.user_id = v_uid and c.id = p_conversation_id
    ) then
        perform app_private.raise_not_found('conversation', p_conversation_id);
    end if;

    select
        pg_catalog.jsonb_build_object(
            'id', p.id, 'display_name', p.display_name, 'goal', p.goal,
            'experience', p.experience, 'days_per_week', p.days_per_week, 'units', p.units,
            'timezone', p.timezone, 'onboarded_at', p.onboarded_at
        ),
        (pg_catalog.now() at time zone p.timezone)::date
    into v_profile, v_today
    from public.profiles as p
    where p.auth_user_id = v_uid;
    v_today := coalesce(v_today, (pg_catalog.now() at time zone 'UTC')::date);

    select
        pg_catalog.jsonb_build_object(
            'id', pl.id, 'name', pl.name, 'goal', pl.goal, 'starts_on', pl.starts_on,
            'weeks', pl.weeks, 'activated_at', pl.activated_at
        ),
        pl.id
    into v_plan, v_plan_id
    from public.plans as pl
    where pl.user_id = v_uid and pl.status = 'active';

    return pg_catalog.jsonb_build_object(
        'profile', v_profile,
        'active_plan', v_plan,
        'upcoming_workouts', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'id', w.id, 'scheduled_on', w.scheduled_on, 'kind', w.kind, 'title', w.title,
                'targets', w.targets, 'status', w.status
            ) order by w.scheduled_on)
            from public.workouts as w
            where w.user_id = v_uid and w.plan_id = v_plan_id
                and w.scheduled_on between v_today and v_today + 6
        ), '[]'::jsonb),
        'messages', coalesce((
            select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'id', last_n.id, 'role', last_n.role, 'content', last_n.content,
                'created_at', last_n.created_at
            ) order by last_n.created_at, last_n.id)
            from (
                select m.id, m.role, m.content, m.created_at
                from public.messages as m
                where m.user_id = v_uid and m.conversation_id = p_conversation_id
                order by m.created_at desc, m.id desc
                limit v_limit
            ) as last_n
        ), '[]'::jsonb)
    );
end
$$;

comment on function app_private.get_chat_context(uuid, int) is
'Body of public.get_chat_context; security definer, checks the caller itself.';

create or replace function public.get_chat_context(conversation_id uuid, message_limit int default 20)
returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
    return app_private.get_chat_context(conversation_id, message_limit);
end
$$;

comment on function public.get_chat_context(uuid, int) is
'Profile, active plan, the next 7 days of workouts and the last N (1-100) messages, oldest first.';

revoke all on function app_private.get_chat_context(uuid, int) from public, anon, service_role;
grant execute on function app_private.get_chat_context(uuid, int) to authenticated;
revoke all on function public.get_chat_context(uuid, int) from public, anon, service_role;
grant execute on function public.get_chat_context(uuid, int) to authenticated;
