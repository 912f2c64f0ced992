// A closed set in an answer: complete_workout answers status "completed", never "skipped".
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export async function read(): Promise<"skipped"> {
  const { data, error } = await supabase.rpc("complete_workout", { workout_id: "00000000-0000-4000-8000-000000000001" })
  if (error) throw error
  return data.status // wrong
}
