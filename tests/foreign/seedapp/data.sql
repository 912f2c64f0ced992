-- 50 users; users 1-5 also have an older second profile (written by an old code path),
-- and every profile has its own plans, workouts, conversation and messages.
insert into auth.users (id, aud, role, email)
select md5('seedapp-user-' || i)::uuid, 'authenticated', 'authenticated', 'user' || i || '@seedapp.test'
from generate_series(1, 50) as i;

insert into public.profiles (id, auth_user_id, display_name, goal, days_per_week, created_at, updated_at)
select md5('seedapp-profile-' || i || '-' || v)::uuid, md5('seedapp-user-' || i)::uuid,
       'User ' || i || case when v = 2 then ' (old)' else '' end, 'strength', 3,
       now() - interval '60 days', case v when 1 then now() - interval '1 day' else now() - interval '30 days' end
from generate_series(1, 50) as i cross join generate_series(1, 2) as v
where v = 1 or i <= 5;

-- the old profiles' plans are all archived, so the merge keeps "one active plan per profile"
insert into public.plans (id, profile_id, name, status)
select md5(p.id::text || '-plan-' || k)::uuid, p.id, 'Plan ' || k,
       case when k = 1 and p.display_name not like '%(old)' then 'active' else 'archived' end
from public.profiles as p cross join generate_series(1, 2) as k;

insert into public.workouts (id, plan_id, profile_id, scheduled_on)
select md5(pl.id::text || '-workout-' || d)::uuid, pl.id, pl.profile_id, date '2026-01-01' + d
from public.plans as pl cross join generate_series(1, 3) as d;

insert into public.conversations (id, profile_id, title)
select md5(p.id::text || '-conversation')::uuid, p.id, 'Coach chat' from public.profiles as p;

insert into public.messages (id, conversation_id, profile_id, content, client_message_id)
select md5(c.id::text || '-message-' || n)::uuid, c.id, c.profile_id, 'message ' || n,
       md5(c.id::text || '-client-' || n)::uuid
from public.conversations as c cross join generate_series(1, 2) as n;
