"""No function of ours is parsed and planned on every call, without a stopwatch.

A ``language sql`` function with a ``SET`` clause (every function here pins ``search_path``)
is never inlined, and PostgreSQL before 18 parses and plans its body on each call;
``app_private.lock_user`` written that way was a quarter of ``complete_workout``'s own time in
the server, and ``request_hash`` and ``strip_whitespace`` paid it in every sign-up and
message. plpgsql keeps its plans for the session. The rule is read from the catalog, so a new
function written the slow way fails here by itself. ``auth.uid()`` is exempt by design: it
has no ``SET`` clause, exactly like Supabase's, so the planner inlines it.
"""

from __future__ import annotations

SQL_FUNCTIONS_WITH_SET = """
select p.oid::regprocedure::text
from pg_catalog.pg_proc as p
join pg_catalog.pg_language as l on l.oid = p.prolang
where l.lanname = 'sql'
    and p.proconfig is not null
    and p.pronamespace::regnamespace::text in ('public', 'app_private', 'auth')
order by 1
"""


def test_no_sql_function_with_a_set_clause_is_planned_on_every_call(admin):
    slow = [row[0] for row in admin.execute(SQL_FUNCTIONS_WITH_SET)]
    assert slow == [], f"language sql with a SET clause is parsed and planned on every call; use plpgsql: {slow}"
