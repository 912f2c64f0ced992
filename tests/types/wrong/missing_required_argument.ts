// A missing required argument: post_message needs client_message_id.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase.rpc("post_message", { // wrong
  conversation_id: "00000000-0000-4000-8000-000000000001",
  content: "hi",
})
