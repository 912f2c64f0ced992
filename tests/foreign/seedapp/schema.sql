-- seedapp: the seed's own database, as its team wrote it by hand in the Supabase SQL editor.
-- Profiles keyed by their own id, every child pointing at profiles.id (not at the user),
-- an updated_at trigger, a partial unique index "one active plan per profile", and the bug:
-- finalize_onboarding upserts on (auth_user_id) but nothing makes auth_user_id unique.

create table public.profiles (
  id uuid primary key default gen_random_uuid(),
  auth_user_id uuid not null references auth.users(id) on delete cascade,
  display_name text,
  goal text,
  days_per_week int,
  onboarded_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create or replace function public.handle_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

create trigger on_profiles_updated before update on public.profiles
  for each row execute function public.handle_updated_at();

create table public.plans (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.profiles(id) on delete cascade,
  name text not null,
  status text not null default 'draft' check (status in ('draft', 'active', 'archived')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index one_active_plan_per_profile on public.plans (profile_id) where status = 'active';
create trigger on_plans_updated before update on public.plans
  for each row execute function public.handle_updated_at();

create table public.workouts (
  id uuid primary key default gen_random_uuid(),
  plan_id uuid not null references public.plans(id) on delete cascade,
  profile_id uuid not null references public.profiles(id) on delete cascade,
  scheduled_on date not null,
  kind text not null default 'run',
  status text not null default 'scheduled',
  unique (plan_id, scheduled_on)
);

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.profiles(id) on delete cascade,
  title text,
  created_at timestamptz not null default now()
);

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations(id) on delete cascade,
  profile_id uuid not null references public.profiles(id) on delete cascade,
  role text not null default 'user',
  content text not null,
  client_message_id uuid,
  created_at timestamptz not null default now(),
  constraint messages_conversation_client_unique unique (conversation_id, client_message_id)
);

alter table public.profiles enable row level security;
alter table public.plans enable row level security;
alter table public.workouts enable row level security;
alter table public.conversations enable row level security;
alter table public.messages enable row level security;

create policy "own profile" on public.profiles for all to authenticated
  using (auth_user_id = auth.uid());
create policy "own plans" on public.plans for all to authenticated
  using (profile_id in (select id from public.profiles where auth_user_id = auth.uid()));
create policy "own workouts" on public.workouts for all to authenticated
  using (profile_id in (select id from public.profiles where auth_user_id = auth.uid()));
create policy "own conversations" on public.conversations for all to authenticated
  using (profile_id in (select id from public.profiles where auth_user_id = auth.uid()));
create policy "own messages" on public.messages for all to authenticated
  using (profile_id in (select id from public.profiles where auth_user_id = auth.uid()));

grant select, insert, update, delete on all tables in schema public to authenticated;

create or replace function public.finalize_onboarding(payload jsonb)
returns uuid
language plpgsql
security invoker
set search_path = public
as $$
declare
  v_uid uuid := auth.uid();
  v_profile_id uuid;
begin
  if v_uid is null then
    raise exception 'not authenticated' using errcode = '42501';
  end if;

  insert into profiles (auth_user_id, display_name, goal, days_per_week, onboarded_at)
  values (v_uid, payload->>'display_name', payload->>'goal', (payload->>'days_per_week')::int, now())
  on conflict (auth_user_id) do update
    set display_name = excluded.display_name,
        goal = excluded.goal,
        days_per_week = excluded.days_per_week,
        onboarded_at = now()
  returning id into v_profile_id;

  update plans set status = 'archived' where profile_id = v_profile_id and status = 'active';
  insert into plans (profile_id, name, status)
  values (v_profile_id, coalesce(payload->>'plan_name', 'My plan'), 'active');
  return v_profile_id;
end;
$$;

-- a legitimate upsert: messages has its arbiter, doctor must not report it
create or replace function public.post_message(p_conversation_id uuid, p_client_message_id uuid, p_content text)
returns uuid
language plpgsql
set search_path = public
as $$
declare
  v_id uuid;
begin
  if auth.uid() is null then
    raise exception 'not authenticated' using errcode = '42501';
  end if;
  insert into messages (conversation_id, profile_id, role, content, client_message_id)
  select c.id, c.profile_id, 'user', p_content, p_client_message_id
  from conversations c where c.id = p_conversation_id
  on conflict (conversation_id, client_message_id) do nothing
  returning id into v_id;
  return v_id;
end;
$$;

grant execute on function public.finalize_onboarding(jsonb) to authenticated;
grant execute on function public.post_message(uuid, uuid, text) to authenticated;
