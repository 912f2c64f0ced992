-- Table privileges. Supabase's default privileges hand every new table in `public` to anon,
-- authenticated and service_role; this file takes all of that back and grants only what
-- each role needs. anon gets nothing. authenticated reads its own rows (RLS) and may write
-- directly only the columns whose every value keeps the invariants; everything else goes
-- through the RPCs.

revoke all on public.profiles, public.plans, public.workouts, public.conversations,
public.messages, public.idempotency_keys
from public, anon, authenticated, service_role;

grant select on public.profiles, public.plans, public.workouts, public.conversations,
public.messages
to authenticated;

grant update (display_name, experience, units, metadata) on public.profiles to authenticated;
grant update (name, metadata) on public.plans to authenticated;
grant update (title) on public.conversations to authenticated;
grant delete on public.conversations to authenticated;

grant select, insert, update, delete on public.profiles, public.plans, public.workouts,
public.conversations, public.messages, public.idempotency_keys
to service_role;
