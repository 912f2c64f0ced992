"""Every table, column and function of the app says what it is for (``comment on``), so a
newcomer reads the purpose in psql (``\\d+``) or in Supabase's table editor."""

from __future__ import annotations


def test_every_table_column_and_function_has_a_comment(admin):
    missing = admin.execute(
        """
        select 'table ' || c.oid::regclass from pg_class c
        where c.relnamespace in ('public'::regnamespace, 'app_private'::regnamespace) and c.relkind = 'r'
            and obj_description(c.oid, 'pg_class') is null
        union all
        select 'column ' || c.oid::regclass || '.' || a.attname from pg_class c
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relnamespace in ('public'::regnamespace, 'app_private'::regnamespace) and c.relkind = 'r'
            and col_description(c.oid, a.attnum) is null
        union all
        select 'function ' || p.oid::regprocedure from pg_proc p
        where p.pronamespace in ('public'::regnamespace, 'app_private'::regnamespace)
            and obj_description(p.oid, 'pg_proc') is null
        """
    ).fetchall()
    assert missing == []
