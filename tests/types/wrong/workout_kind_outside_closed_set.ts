// An enum value outside the closed set inside an array: plan.workouts[].kind.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase.rpc("finalize_onboarding", {
  idempotency_key: "k",
  profile: { display_name: "Ada", goal: "strength", days_per_week: 3 },
  plan: { workouts: [{ scheduled_on: "2030-01-07", kind: "swim" }] }, // wrong
})
