"""What the generated types are made of, read from a live database: the exposed tables with
their columns, foreign keys and the API role's column grants, the enum types, and the RPCs.

The grants are the live catalog's, not a copy: a column the role may not insert or update
becomes ``?: never`` in the types, so the compiler refuses the write the database would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

#: The role whose grants shape Insert/Update: the one a signed-in app client acts as.
CLIENT_ROLE = "authenticated"
SCHEMA = "public"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the type's name in pg_type (uuid, text, int2, jsonb, an enum's name ...)
    is_array: bool
    nullable: bool
    has_default: bool
    identity_always: bool
    can_insert: bool
    can_update: bool


@dataclass(frozen=True)
class Relationship:
    foreign_key_name: str
    columns: list[str]
    is_one_to_one: bool
    referenced_relation: str
    referenced_columns: list[str]


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)

    @property
    def insertable(self) -> bool:
        return any(c.can_insert for c in self.columns)

    @property
    def updatable(self) -> bool:
        return any(c.can_update for c in self.columns)


@dataclass(frozen=True)
class Argument:
    name: str
    type: str
    has_default: bool


@dataclass
class Catalog:
    tables: list[Table]
    enums: dict[str, list[str]]
    functions: dict[str, list[Argument]]


TABLES = """
select c.relname from pg_catalog.pg_class as c
where c.relnamespace = %(schema)s::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
order by c.relname
"""

COLUMNS = """
select c.relname, a.attname,
    case when t.typcategory = 'A' then e.typname else t.typname end,
    t.typcategory = 'A',
    not a.attnotnull,
    a.atthasdef or a.attidentity <> '' or a.attgenerated <> '',
    a.attidentity = 'a' or a.attgenerated <> '',
    pg_catalog.has_column_privilege(%(role)s, c.oid, a.attnum, 'INSERT'),
    pg_catalog.has_column_privilege(%(role)s, c.oid, a.attnum, 'UPDATE')
from pg_catalog.pg_class as c
join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_catalog.pg_type as t on t.oid = a.atttypid
left join pg_catalog.pg_type as e on e.oid = t.typelem
where c.relnamespace = %(schema)s::regnamespace and c.relkind in ('r', 'p')
order by c.relname, a.attname
"""

# As postgres-meta (after PostgREST's schema cache): a foreign key is one-to-one when its
# columns, in its order, are exactly a primary or unique key of the referencing table.
RELATIONSHIPS = """
select tab.relname, k.conname,
    array(select a.attname from unnest(k.conkey) with ordinality as u (n, o)
        join pg_catalog.pg_attribute as a on a.attrelid = k.conrelid and a.attnum = u.n order by u.o),
    exists (
        select from pg_catalog.pg_constraint as u
        where u.conrelid = k.conrelid and u.contype in ('p', 'u')
            and array(select x from unnest(u.conkey) as x order by x) = k.conkey
    ),
    other.relname,
    array(select a.attname from unnest(k.confkey) with ordinality as u (n, o)
        join pg_catalog.pg_attribute as a on a.attrelid = k.confrelid and a.attnum = u.n order by u.o)
from pg_catalog.pg_constraint as k
join pg_catalog.pg_class as tab on tab.oid = k.conrelid
join pg_catalog.pg_class as other on other.oid = k.confrelid
where k.contype = 'f' and k.conparentid = 0
    and tab.relnamespace = %(schema)s::regnamespace and other.relnamespace = %(schema)s::regnamespace
order by tab.relname, k.conname, other.relname
"""

ENUMS = """
select t.typname, array_agg(e.enumlabel order by e.enumsortorder)
from pg_catalog.pg_type as t join pg_catalog.pg_enum as e on e.enumtypid = t.oid
where t.typnamespace = %(schema)s::regnamespace
group by t.typname order by t.typname
"""

FUNCTIONS = """
select p.proname, coalesce(p.proargnames, '{}'), p.proargtypes::oid[]::regtype[]::text[], p.pronargdefaults
from pg_catalog.pg_proc as p
where p.pronamespace = %(schema)s::regnamespace and p.prokind = 'f'
    and not exists (select from pg_catalog.pg_depend as d where d.objid = p.oid and d.deptype = 'e')
order by p.proname
"""


def read_catalog(conn: psycopg.Connection, role: str = CLIENT_ROLE, schema: str = SCHEMA) -> Catalog:
    """Tables, enums and functions of ``schema`` as ``role`` sees them (its column grants)."""
    params = {"schema": schema, "role": role}
    tables = {name: Table(name) for (name,) in conn.execute(TABLES, params).fetchall()}
    for row in conn.execute(COLUMNS, params).fetchall():
        if row[0] in tables:
            tables[row[0]].columns.append(Column(*row[1:]))
    for table, name, cols, one, referenced, refcols in conn.execute(RELATIONSHIPS, params).fetchall():
        if table in tables:
            tables[table].relationships.append(Relationship(name, list(cols), one, referenced, list(refcols)))
    enums = {name: list(labels) for name, labels in conn.execute(ENUMS, params).fetchall()}
    functions: dict[str, list[Argument]] = {}
    for name, names, types, defaults in conn.execute(FUNCTIONS, params).fetchall():
        count = len(types)
        functions[name] = [
            Argument(names[i] if i < len(names) else "", types[i], i >= count - defaults) for i in range(count)
        ]
    return Catalog(list(tables.values()), enums, functions)
