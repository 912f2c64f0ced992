// An RPC that does not exist: finalise_onboarding.
// The line marked `// wrong` must be refused by tsc --strict; nothing else may be.
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../../../types/database.types"

const supabase = createClient<Database>("https://example.supabase.co", "public-anon-key")

export const call = supabase.rpc("finalise_onboarding", { idempotency_key: "k" }) // wrong
