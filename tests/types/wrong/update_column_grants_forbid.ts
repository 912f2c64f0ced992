// Writing a column the grants forbid: profiles.goal (finalize_onboarding changes it, with the plan).
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase
  .from("profiles")
  .update({ goal: "strength" }) // wrong
  .eq("auth_user_id", "00000000-0000-4000-8000-000000000001")
