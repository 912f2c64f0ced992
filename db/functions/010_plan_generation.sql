-- Deterministic plan generation: days_per_week sessions a week, spread over the week, their
-- kinds rotating through a pattern chosen by the goal, their length growing week by week.
--
-- Planned cheaply on purpose. The week and day series have constant bounds (the largest
-- plan: 52 weeks, 7 days) filtered down to the plan's size, so the planner sees 52 and 7
-- rows instead of its default 1,000 for a series with non-constant bounds; and the
-- function declares the rows it returns (4 weeks of 4 days is typical, 364 the most).
-- Written with generate_series(0, p_weeks - 1), the body was estimated at 1,000,000 rows
-- (1,000 x 1,000, sorted), a cost over jit_above_cost: on a server with JIT (PostgreSQL's
-- default) every sign-up paid ~12 ms of LLVM compilation for 12 rows.
--
-- Both functions are plpgsql rather than sql: a sql function with a SET clause is never
-- inlined, so PostgreSQL (before 18) parses and plans its body on every call (~260 us for
-- generated_workouts); plpgsql keeps the plan for the session.

create or replace function app_private.generated_workouts(
    p_goal public.fitness_goal, p_days_per_week int, p_weeks int, p_starts_on date
) returns table (scheduled_on date, kind public.workout_kind, title text, targets jsonb)
language plpgsql immutable
rows 16
set search_path = ''
as $$
begin
    return query
    with pattern as (
        select case p_goal
            when 'general_fitness' then
                '{run,strength,mobility,cross_training,run,strength,recovery}'::text []
            when 'weight_loss' then
                '{run,cross_training,strength,run,cross_training,mobility,recovery}'::text []
            when 'strength' then
                '{strength,mobility,strength,cross_training,strength,recovery,mobility}'::text []
            when 'endurance' then
                '{run,strength,run,cross_training,run,mobility,recovery}'::text []
            when 'race_prep' then
                '{run,strength,run,mobility,run,cross_training,recovery}'::text []
        end as kinds
    )
    select
        p_starts_on + (w.n * 7 + (s.n * 7) / p_days_per_week) as scheduled_on,
        pattern.kinds[s.n + 1]::public.workout_kind as kind,
        pg_catalog.format(
            '%s, week %s',
            pg_catalog.initcap(pg_catalog.replace(pattern.kinds[s.n + 1], '_', '-')), w.n + 1
        ) as title,
        pg_catalog.jsonb_build_object(
            'duration_min',
            case
                when pattern.kinds[s.n + 1] in ('mobility', 'recovery') then 20 + 2 * least(w.n, 5)
                else 30 + 5 * least(w.n, 9)
            end,
            'intensity',
            case
                when pattern.kinds[s.n + 1] in ('mobility', 'recovery') then 'easy'
                when s.n = 0 then 'moderate'
                when w.n % 4 = 3 then 'easy'
                else 'hard'
            end
        ) as targets
    from pattern,
        pg_catalog.generate_series(0, 51) as w (n),
        pg_catalog.generate_series(0, 6) as s (n)
    where w.n < p_weeks and s.n < p_days_per_week
    order by 1;
end
$$;

comment on function app_private.generated_workouts(public.fitness_goal, int, int, date) is
'The workouts a plan gets when the client sends none: deterministic in goal, days and weeks.';

create or replace function app_private.default_plan_name(p_goal public.fitness_goal)
returns text
language plpgsql immutable
set search_path = ''
as $$
begin
    return case p_goal
        when 'general_fitness' then 'General fitness plan'
        when 'weight_loss' then 'Weight loss plan'
        when 'strength' then 'Strength plan'
        when 'endurance' then 'Endurance plan'
        when 'race_prep' then 'Race preparation plan'
    end;
end
$$;

comment on function app_private.default_plan_name(public.fitness_goal) is
'The name a plan gets when the client sends none.';

revoke all on function app_private.generated_workouts(
    public.fitness_goal, int, int, date
) from public;
revoke all on function app_private.default_plan_name(public.fitness_goal) from public;
