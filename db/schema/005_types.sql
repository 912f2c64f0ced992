-- Closed sets of the data model, as enum types.

create type public.fitness_goal as enum (
    'general_fitness', 'weight_loss', 'strength', 'endurance', 'race_prep'
);
comment on type public.fitness_goal is 'What a user trains for; drives plan generation.';

create type public.experience_level as enum ('beginner', 'intermediate', 'advanced');
comment on type public.experience_level is 'How experienced a user says they are.';

create type public.unit_system as enum ('metric', 'imperial');
comment on type public.unit_system is 'Units a user wants to see.';

create type public.plan_status as enum ('draft', 'active', 'completed', 'archived');
comment on type public.plan_status is 'Lifecycle of a plan; at most one active per user.';

create type public.workout_kind as enum (
    'run', 'strength', 'mobility', 'cross_training', 'recovery'
);
comment on type public.workout_kind is 'What kind of session a workout is.';

create type public.workout_status as enum ('scheduled', 'completed', 'skipped');
comment on type public.workout_status is 'Whether a workout is still to do, done or skipped.';

create type public.message_role as enum ('user', 'assistant', 'system');
comment on type public.message_role is 'Who wrote a chat message.';
