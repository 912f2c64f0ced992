// Writing a column the grants forbid: a plan's status changes through activate_plan only.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase.from("plans").update({ status: "active" }).eq("id", "p") // wrong
