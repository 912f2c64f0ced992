// Reading a field the response does not have: skip_workout answers skipped_at, not completed_at.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export async function read(): Promise<string> {
  const { data, error } = await supabase.rpc("skip_workout", { workout_id: "00000000-0000-4000-8000-000000000001" })
  if (error) throw error
  return data.completed_at // wrong
}
