// A misspelled column in an update: update() refuses keys the table does not have.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase.from("conversations").update({ titel: "Renamed" }).eq("id", "c") // wrong
