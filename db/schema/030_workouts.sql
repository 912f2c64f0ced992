-- workouts: a plan's scheduled sessions, one per plan per day, owned by the plan's owner.

create table public.workouts (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    plan_id uuid not null,
    scheduled_on date not null,
    kind public.workout_kind not null,
    title text not null,
    targets jsonb not null default '{}'::jsonb,
    status public.workout_status not null default 'scheduled',
    result jsonb not null default '{}'::jsonb,
    completed_at timestamptz,
    skipped_at timestamptz,
    skip_reason text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint workouts_user_id_id_unique unique (user_id, id),
    constraint workouts_one_per_plan_day unique (user_id, plan_id, scheduled_on),
    constraint workouts_user_id_fkey foreign key (user_id)
    references auth.users (id) on delete cascade,
    constraint workouts_plan_owner_fkey foreign key (user_id, plan_id)
    references public.plans (user_id, id) on delete cascade,
    constraint workouts_title_length check (char_length(title) between 1 and 120),
    constraint workouts_targets_is_object check (jsonb_typeof(targets) = 'object'),
    constraint workouts_result_is_object check (jsonb_typeof(result) = 'object'),
    constraint workouts_skip_reason_length check (char_length(skip_reason) <= 500),
    constraint workouts_completed_at_matches_status
    check ((status = 'completed') = (completed_at is not null)),
    constraint workouts_skipped_at_matches_status
    check ((status = 'skipped') = (skipped_at is not null))
);

create index workouts_user_id_scheduled_on_idx on public.workouts (user_id, scheduled_on);

comment on index public.workouts_user_id_scheduled_on_idx is
'Owner-scoped reads by date: a week of workouts, upcoming workouts.';

comment on table public.workouts is 'Scheduled sessions of a plan; one per plan per day.';
comment on column public.workouts.id is 'Workout id.';
comment on column public.workouts.user_id is 'Owner; always the plan''s owner.';
comment on column public.workouts.plan_id is 'The plan this workout belongs to.';
comment on column public.workouts.scheduled_on is 'Day the workout is scheduled for.';
comment on column public.workouts.kind is 'run, strength, mobility, cross_training or recovery.';
comment on column public.workouts.title is 'Short title, 1-120 characters.';
comment on column public.workouts.targets is 'What the session asks for (a JSON object).';
comment on column public.workouts.status is 'scheduled, completed or skipped.';
comment on column public.workouts.result is
'Recorded results: duration_min, distance_m, rpe, notes (a JSON object).';
comment on column public.workouts.completed_at is 'When it was completed; set iff completed.';
comment on column public.workouts.skipped_at is 'When it was skipped; set iff skipped.';
comment on column public.workouts.skip_reason is 'Why it was skipped, up to 500 characters.';
comment on column public.workouts.created_at is 'When the row was created.';
comment on column public.workouts.updated_at is 'When the row last changed (trigger).';

create trigger workouts_set_updated_at
before update on public.workouts
for each row execute function app_private.set_updated_at();
