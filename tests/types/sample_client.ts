// A web or mobile client of coachdb, typed by types/database.types.ts: every RPC called with
// valid arguments and every field of every answer read, plus the table reads and the direct
// writes the column grants allow. `tsc --strict --noEmit` must accept this file; each file in
// wrong/ must be refused (tests/types/test_typescript.py).
import { createClient } from "@supabase/supabase-js"
import type {
  Database,
  Enums,
  FunctionArgs,
  FunctionReturns,
  Tables,
  TablesUpdate,
} from "../../types/database.types"
import { Constants } from "../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

function use(...values: unknown[]): void {
  void values
}

export async function onboard(): Promise<FunctionReturns<"finalize_onboarding">> {
  const args: FunctionArgs<"finalize_onboarding"> = {
    idempotency_key: crypto.randomUUID(),
    profile: {
      display_name: "Ada",
      goal: "race_prep",
      experience: "intermediate",
      days_per_week: 4,
      units: "metric",
      timezone: "Europe/London",
      metadata: { source: "web", referral: null },
    },
    plan: {
      name: "Spring 10k",
      starts_on: "2030-01-07",
      weeks: 8,
      workouts: [
        { scheduled_on: "2030-01-07", kind: "run", title: "Easy run", targets: { duration_min: 30 } },
        { scheduled_on: "2030-01-09", kind: "strength" },
      ],
    },
  }
  const { data, error } = await supabase.rpc("finalize_onboarding", args)
  if (error) throw error
  const profileId: string = data.profile_id
  const planId: string = data.plan_id
  const count: number = data.workout_count
  const onboardedAt: string = data.onboarded_at
  const replayed: boolean = data.replayed
  use(profileId, planId, count, onboardedAt, replayed)
  return data
}

export async function plansAndWorkouts(planId: string, workoutId: string): Promise<void> {
  const activated = await supabase.rpc("activate_plan", { plan_id: planId })
  if (activated.error) throw activated.error
  const active: string = activated.data.plan_id
  const archived: string | null = activated.data.archived_plan_id
  use(active, archived)

  const done = await supabase.rpc("complete_workout", {
    workout_id: workoutId,
    result: { duration_min: 42, distance_m: 8000.5, rpe: 7, notes: "Felt good" },
  })
  if (done.error) throw done.error
  const completed: "completed" = done.data.status
  use(done.data.workout_id, completed, done.data.completed_at, done.data.replayed)

  const skipped = await supabase.rpc("skip_workout", { workout_id: workoutId, reason: "Travelling" })
  if (skipped.error) throw skipped.error
  const status: "skipped" = skipped.data.status
  use(skipped.data.workout_id, status, skipped.data.skipped_at, skipped.data.replayed)
  await supabase.rpc("skip_workout", { workout_id: workoutId })
}

export async function chat(planId: string): Promise<void> {
  const started = await supabase.rpc("start_conversation", { title: "Race week", plan_id: planId })
  if (started.error) throw started.error
  const conversationId: string = started.data.conversation_id
  await supabase.rpc("start_conversation", {})

  const posted = await supabase.rpc("post_message", {
    conversation_id: conversationId,
    client_message_id: crypto.randomUUID(),
    content: "How should I pace Sunday's long run?",
  })
  if (posted.error) throw posted.error
  use(posted.data.message_id, posted.data.created_at, posted.data.replayed)

  const context = await supabase.rpc("get_chat_context", { conversation_id: conversationId, message_limit: 20 })
  if (context.error) throw context.error
  const { profile, active_plan, upcoming_workouts, messages } = context.data
  if (profile) {
    const goal: Enums<"fitness_goal"> = profile.goal
    const experience: Enums<"experience_level"> = profile.experience
    const units: Enums<"unit_system"> = profile.units
    use(profile.id, profile.display_name, goal, experience, profile.days_per_week, units)
    use(profile.timezone, profile.onboarded_at)
  }
  if (active_plan) {
    use(active_plan.id, active_plan.name, active_plan.goal, active_plan.starts_on, active_plan.weeks)
    use(active_plan.activated_at)
  }
  for (const w of upcoming_workouts) {
    const kind: Enums<"workout_kind"> = w.kind
    const state: Enums<"workout_status"> = w.status
    use(w.id, w.scheduled_on, kind, w.title, w.targets["duration_min"], state)
  }
  for (const m of messages) {
    const role: Enums<"message_role"> = m.role
    use(m.id, role, m.content, m.created_at)
  }
}

export async function serviceRole(conversationId: string, replyTo: string): Promise<number> {
  // The AI service's client (service role key); the same Database type.
  const service = createClient<Database>("https://example.supabase.co", "service-role-key")
  const reply = await service.rpc("record_assistant_message", {
    conversation_id: conversationId,
    content: "Keep it conversational for the first 10 km.",
    metadata: { model: "coach-1", tokens: 42 },
    reply_to: replyTo,
  })
  if (reply.error) throw reply.error
  use(reply.data.message_id, reply.data.created_at, reply.data.replayed)

  const purged = await service.rpc("purge_idempotency_keys", { older_than: "30 days" })
  if (purged.error) throw purged.error
  await service.rpc("purge_idempotency_keys")
  const deleted: number = purged.data
  return deleted
}

export async function exportAndTables(): Promise<void> {
  const exported = await supabase.rpc("export_my_data")
  if (exported.error) throw exported.error
  const everything = exported.data
  const profiles: Tables<"profiles">[] = everything.profiles
  const plans: Tables<"plans">[] = everything.plans
  const workouts: Tables<"workouts">[] = everything.workouts
  const conversations: Tables<"conversations">[] = everything.conversations
  const messages: Tables<"messages">[] = everything.messages
  const keys: Tables<"idempotency_keys">[] = everything.idempotency_keys
  use(profiles, plans, workouts, conversations, messages, keys.map((k) => k.response))

  // Reads are plain selects under RLS; the row types come from the catalog.
  const week = await supabase
    .from("workouts")
    .select("id, scheduled_on, kind, status, result")
    .gte("scheduled_on", "2030-01-07")
    .order("scheduled_on")
  if (week.error) throw week.error
  for (const w of week.data) use(w.id, w.scheduled_on, w.kind, w.status, w.result)

  // The direct writes the grants allow.
  const rename: TablesUpdate<"profiles"> = { display_name: "Ada L.", experience: "advanced", units: "imperial" }
  await supabase.from("profiles").update(rename).eq("auth_user_id", "00000000-0000-4000-8000-000000000001")
  await supabase.from("plans").update({ name: "Autumn 10k", metadata: { colour: "green" } }).eq("id", "p")
  await supabase.from("conversations").update({ title: "Renamed" }).eq("id", "c")
  await supabase.from("conversations").delete().eq("id", "c")

  const goals: readonly Enums<"fitness_goal">[] = Constants.public.Enums.fitness_goal
  use(goals)
}
