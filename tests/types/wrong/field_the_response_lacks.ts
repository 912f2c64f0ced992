// Reading a field the response does not have: finalize_onboarding answers plan_id, not planId.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export async function read(): Promise<string> {
  const { data, error } = await supabase.rpc("finalize_onboarding", {
    idempotency_key: "k",
    profile: { display_name: "Ada", goal: "strength", days_per_week: 3 },
  })
  if (error) throw error
  return data.planId // wrong
}
