// A wrong JSON type inside a payload: profile.days_per_week is a number, not a string.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase.rpc("finalize_onboarding", {
  idempotency_key: "k",
  profile: { display_name: "Ada", goal: "strength", days_per_week: "3" }, // wrong
})
