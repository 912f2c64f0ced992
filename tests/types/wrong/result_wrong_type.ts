// A wrong JSON type in complete_workout's result: rpe is a number.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase.rpc("complete_workout", {
  workout_id: "00000000-0000-4000-8000-000000000001",
  result: { rpe: "hard" }, // wrong
})
