-- Row-level security: on for every table, every policy scoped to the owner through
-- (select auth.uid()), evaluated once per statement, on an indexed owner column.
-- Re-runnable: each policy is dropped and created again.

alter table public.profiles enable row level security;
alter table public.plans enable row level security;
alter table public.workouts enable row level security;
alter table public.conversations enable row level security;
alter table public.messages enable row level security;
alter table public.idempotency_keys enable row level security;

-- profiles
drop policy if exists "users can read their own profile" on public.profiles;
create policy "users can read their own profile" on public.profiles
for select to authenticated
using ((select auth.uid()) = auth_user_id);

drop policy if exists "users can update their own profile" on public.profiles;
create policy "users can update their own profile" on public.profiles
for update to authenticated
using ((select auth.uid()) = auth_user_id)
with check ((select auth.uid()) = auth_user_id);

-- plans
drop policy if exists "users can read their own plans" on public.plans;
create policy "users can read their own plans" on public.plans
for select to authenticated
using ((select auth.uid()) = user_id);

drop policy if exists "users can update their own plans" on public.plans;
create policy "users can update their own plans" on public.plans
for update to authenticated
using ((select auth.uid()) = user_id)
with check ((select auth.uid()) = user_id);

-- workouts
drop policy if exists "users can read their own workouts" on public.workouts;
create policy "users can read their own workouts" on public.workouts
for select to authenticated
using ((select auth.uid()) = user_id);

-- conversations
drop policy if exists "users can read their own conversations" on public.conversations;
create policy "users can read their own conversations" on public.conversations
for select to authenticated
using ((select auth.uid()) = user_id);

drop policy if exists "users can update their own conversations" on public.conversations;
create policy "users can update their own conversations" on public.conversations
for update to authenticated
using ((select auth.uid()) = user_id)
with check ((select auth.uid()) = user_id);

drop policy if exists "users can delete their own conversations" on public.conversations;
create policy "users can delete their own conversations" on public.conversations
for delete to authenticated
using ((select auth.uid()) = user_id);

-- messages
drop policy if exists "users can read their own messages" on public.messages;
create policy "users can read their own messages" on public.messages
for select to authenticated
using ((select auth.uid()) = user_id);

-- idempotency_keys: no grant to authenticated; the policy states the owner rule anyway so
-- that a later grant cannot expose other users' keys.
drop policy if exists "users can read their own idempotency keys" on public.idempotency_keys;
create policy "users can read their own idempotency keys" on public.idempotency_keys
for select to authenticated
using ((select auth.uid()) = user_id);
