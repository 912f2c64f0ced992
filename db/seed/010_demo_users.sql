-- Demo data for `coachdb up`: three users, onboarded through the real RPC (acting as each
-- user, as PostgREST would), and a short conversation with the coach. Never loaded by apply.

insert into auth.users (id, aud, role, email, email_confirmed_at, raw_user_meta_data)
values
(
    '00000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated',
    'ada@example.com', now(), '{"name": "Ada"}'
),
(
    '00000000-0000-4000-8000-000000000002', 'authenticated', 'authenticated',
    'ben@example.com', now(), '{"name": "Ben"}'
),
(
    '00000000-0000-4000-8000-000000000003', 'authenticated', 'authenticated',
    'chloe@example.com', now(), '{"name": "Chloe"}'
)
on conflict (id) do nothing;

select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000001", "role": "authenticated"}', true) as claims;
select public.finalize_onboarding(
    'seed-onboarding',
    '{"display_name": "Ada", "goal": "race_prep", "experience": "intermediate",
      "days_per_week": 4, "timezone": "Europe/London"}',
    '{"name": "Spring 10k", "weeks": 8}'
);

select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000002", "role": "authenticated"}', true) as claims;
select public.finalize_onboarding(
    'seed-onboarding',
    '{"display_name": "Ben", "goal": "strength", "days_per_week": 3,
      "units": "imperial", "timezone": "America/New_York"}'
);

select set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-000000000003", "role": "authenticated"}', true) as claims;
select public.finalize_onboarding(
    'seed-onboarding',
    '{"display_name": "Chloe", "goal": "general_fitness", "days_per_week": 2,
      "timezone": "Asia/Tokyo"}',
    '{"weeks": 2, "workouts": []}'
);

select set_config('request.jwt.claims', '', true) as claims;

-- A conversation between Ada and the coach about her active plan.
insert into public.conversations (id, user_id, plan_id, title, last_message_at)
select
    '00000000-0000-4000-8000-0000000000c1' as id,
    p.user_id,
    p.id as plan_id,
    'How should I pace my long run?' as title,
    now() as last_message_at
from public.plans as p
where p.user_id = '00000000-0000-4000-8000-000000000001' and p.status = 'active';

insert into public.messages (user_id, conversation_id, role, content, client_message_id, created_at)
values
(
    '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000c1', 'user',
    'How should I pace my long run this week?', '00000000-0000-4000-8000-0000000000a1',
    now() - interval '2 minutes'
),
(
    '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000c1', 'assistant',
    'Keep it conversational: you should be able to speak in full sentences.', null,
    now() - interval '1 minute'
);
