// Writing a table the grants forbid: authenticated may not insert plans (finalize_onboarding creates them).
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase
  .from("plans")
  .insert({ name: "Mine", goal: "strength", starts_on: "2030-01-07", weeks: 4 }) // wrong
