"""``coachdb diff``: the migration from the previous state (the migrations) to the edited tree.

``db/`` is the declared state, edited in place. To turn an edit into a migration:

1. two scratch databases: the previous state (Supabase's ``auth`` and roles, then every
   migration the ``db push`` way) and the edited tree (its files run directly, see
   :func:`harness.builds.from_declared`); the push ledger is dropped so that only the
   schema is compared;
2. the function and policy files that define an object (function, policy, grant, RLS flag)
   whose catalog entry differs between the two states are carried whole: the migration
   re-runs their new text, so grants, comments and formatting travel as written. Decided
   by the catalog, not by comparing texts, so a migration written by hand (or a rewritten
   baseline) that already brought a file's objects up to date leaves nothing to carry;
3. everything else (tables, columns, constraints, indexes, types, triggers, comments,
   dropped functions and policies) comes from the diff engine: ``results`` (PyPI), the
   maintained successor of migra by migra's author, with privileges. The objects the carried
   files define are hidden from the engine, so nothing is written twice;
4. renames the engine cannot know about (it sees a dropped column and a new one) are given
   as ``--rename schema.table.old=new`` and go first, as ``alter table ... rename column``;
5. the migration is run on a copy of the previous state: each statement's locks, rewrites
   and data loss are measured and written above it (with squawk's findings and, when
   plugged in, a classifier's), and the result must have the edited tree's catalog, or
   nothing is written.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from pglast import ast, parse_sql
from psycopg import sql

from harness import SQL_ROOT, builds, catalog, risks
from harness.errors import HarnessError
from harness.migrations import carry, check_name, migrations_dir, new_migration
from harness.sqltree import sql_files
from harness.supabase_push import split

LEDGERS = ("coachdb_meta", "supabase_migrations")
#: Every migration's first statement: an API request never queues behind it for longer.
LOCK_TIMEOUT = "set local lock_timeout = '4s';"
RENAME = re.compile(r"^(?P<schema>\w+)\.(?P<table>\w+)\.(?P<old>\w+)=(?P<new>\w+)$")


@dataclass(frozen=True)
class Rename:
    schema: str
    table: str
    old: str
    new: str

    @classmethod
    def parse(cls, text: str) -> Rename:
        m = RENAME.match(text)
        if not m:
            raise HarnessError(f"--rename: {text!r} must be schema.table.old=new (like public.plans.name=title)")
        return cls(m["schema"], m["table"], m["old"], m["new"])

    def statement(self) -> str:
        return str(
            sql.SQL("alter table {}.{} rename column {} to {}")
            .format(
                sql.Identifier(self.schema),
                sql.Identifier(self.table),
                sql.Identifier(self.old),
                sql.Identifier(self.new),
            )
            .as_string(None)
        )


@dataclass
class DiffResult:
    text: str = ""
    carried: list[str] = field(default_factory=list)
    statement_risks: list[risks.StatementRisk] = field(default_factory=list)
    squawked: bool = False
    path: Path | None = None

    @property
    def empty(self) -> bool:
        return not self.text

    @property
    def risky(self) -> list[risks.StatementRisk]:
        return [r for r in self.statement_risks if r.risky]


# -- what the carried files define -------------------------------------------------------------


@dataclass
class Defined:
    functions: set[tuple[str, str]] = field(default_factory=set)
    policies: set[tuple[str, str, str]] = field(default_factory=set)
    granted: set[tuple[str, str]] = field(default_factory=set)  # tables and functions granted on
    altered: set[tuple[str, str]] = field(default_factory=set)  # tables altered (RLS flags)

    def keys(self) -> dict[str, set[str]]:
        """Which entries of :func:`file_objects` these objects are: by kind, the prefixes of
        their qualified names (a table's prefix covers its columns' grants too)."""
        tables = {f"{s}.{t}" for s, t in self.granted | self.altered}
        return {
            "function": {f"{s}.{n}(" for s, n in self.functions | self.granted},
            "policy": {f"{s}.{t}: {p}" for s, t, p in self.policies},
            "access": tables,
        }


def _qualified(names: list) -> tuple[str, str]:
    parts = [n.sval for n in names]
    return (parts[0], parts[1]) if len(parts) == 2 else ("public", parts[-1])


def defined_by(texts: list[str]) -> Defined:
    """The functions, policies and granted objects that ``texts`` create, by PostgreSQL's
    own parser (pglast)."""
    found = Defined()
    for text in texts:
        for raw in parse_sql(text):
            stmt = raw.stmt
            if isinstance(stmt, ast.CreateFunctionStmt):
                found.functions.add(_qualified(stmt.funcname))
            elif isinstance(stmt, ast.CreatePolicyStmt):
                table = stmt.table
                found.policies.add((table.schemaname or "public", table.relname, stmt.policy_name))
            elif isinstance(stmt, ast.AlterTableStmt):
                found.altered.add((stmt.relation.schemaname or "public", stmt.relation.relname))
            elif isinstance(stmt, ast.GrantStmt):
                for obj in stmt.objects or ():
                    if isinstance(obj, ast.RangeVar):
                        found.granted.add((obj.schemaname or "public", obj.relname))
                    elif isinstance(obj, ast.ObjectWithArgs):
                        found.granted.add(_qualified(obj.objname))
    return found


# -- the engine ---------------------------------------------------------------------------------


def _hide(inspector: object, defined: Defined) -> None:
    """Take the objects the carried files define out of what the engine compares."""
    for attribute in ("functions", "selectables"):
        objects = getattr(inspector, attribute)
        for key in [k for k, v in objects.items() if (v.schema, v.name) in defined.functions]:
            del objects[key]
    policies = inspector.rlspolicies
    for key in [k for k, v in policies.items() if (v.schema, v.table_name, v.name) in defined.policies]:
        del policies[key]
    hidden = defined.functions | defined.granted
    privileges = inspector.privileges
    for key in [k for k, v in privileges.items() if (v.schema, v.name) in hidden]:
        del privileges[key]


#: The engine's two orderings, tried in this order. Its category order (``add_all_changes``)
#: touches only what changed. Its dependency-ordered one (``add_all_changes_ordered``) also
#: drops and re-adds every foreign key of a changed table (a lock on the referenced table,
#: auth.users included, and a validating scan), and in results 2.0 it re-adds
#: ``on delete set null (col)`` without its column list: so it is the fallback, for a change
#: whose statements the category order cannot sequence (verification decides).
STRATEGIES = ("add_all_changes", "add_all_changes_ordered")


def engine_statements(source_url: str, target_url: str, hide: Defined, strategy: str = STRATEGIES[0]) -> list[str]:
    """What the diff engine says turns ``source`` into ``target``, minus ``hide``."""
    try:
        import results
        from results.dbdiff import Migration
        from results.schemainspect import get_inspector
    except ImportError as exc:
        raise HarnessError("coachdb diff needs its diff engine: pip install 'coachdb[diff]'") from exc
    inspectors = []
    for url in (source_url, target_url):
        inspector = get_inspector(results.db(url))
        _hide(inspector, hide)
        inspectors.append(inspector)
    migration = Migration(*inspectors)
    migration.set_safety(False)
    getattr(migration, strategy)(privileges=True)
    return [s.strip() for s in migration.statements if s.strip()]


#: Every comment on an app object, keyed by the ``comment on`` target that sets it. The
#: engine carries comments on tables, columns and functions, not on indexes, constraints,
#: policies, triggers, types or schemas; these complete the migration, taken from the
#: tree's catalog (a comment is metadata: no lock beyond the object's, no data).
COMMENTS = """
    select format('index %%I.%%I', n.nspname, c.relname), d.description
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    join pg_description d on d.objoid = c.oid and d.classoid = 'pg_class'::regclass and d.objsubid = 0
    where n.nspname = any(%(schemas)s) and c.relkind in ('i', 'I')
    union all
    select format('constraint %%I on %%I.%%I', k.conname, n.nspname, c.relname), d.description
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    join pg_description d on d.objoid = k.oid and d.classoid = 'pg_constraint'::regclass
    where n.nspname = any(%(schemas)s)
    union all
    select format('policy %%I on %%I.%%I', p.polname, n.nspname, c.relname), d.description
    from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
    join pg_description d on d.objoid = p.oid and d.classoid = 'pg_policy'::regclass
    where n.nspname = any(%(schemas)s)
    union all
    select format('trigger %%I on %%I.%%I', t.tgname, n.nspname, c.relname), d.description
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    join pg_description d on d.objoid = t.oid and d.classoid = 'pg_trigger'::regclass
    where n.nspname = any(%(schemas)s)
    union all
    select format('type %%I.%%I', n.nspname, t.typname), d.description
    from pg_type t join pg_namespace n on n.oid = t.typnamespace
    join pg_description d on d.objoid = t.oid and d.classoid = 'pg_type'::regclass
    where n.nspname = any(%(schemas)s) and t.typtype in ('e', 'd')
    union all
    select format('schema %%I', n.nspname), d.description
    from pg_namespace n join pg_description d on d.objoid = n.oid and d.classoid = 'pg_namespace'::regclass
    where n.nspname = any(%(schemas)s)
"""


def comment_statements(migrated_url: str, tree_url: str) -> list[str]:
    """``comment on`` statements for the comments the engine left out (see COMMENTS)."""
    params = {"schemas": list(catalog.APP_SCHEMAS)}
    with psycopg.connect(migrated_url, autocommit=True) as a, psycopg.connect(tree_url, autocommit=True) as b:
        have = dict(a.execute(COMMENTS, params).fetchall())
        want = dict(b.execute(COMMENTS, params).fetchall())
        return [
            f"comment on {target} is " + (sql.Literal(want[target]).as_string(b) if target in want else "null")
            for target in sorted(want.keys() | have.keys())
            if want.get(target) != have.get(target)
        ]


def engine_version() -> str:
    try:
        import results
    except ImportError:
        return "not installed"
    return f"results {results.__version__}"


# -- building, composing, verifying -----------------------------------------------------------


def _drop_ledgers(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for schema in LEDGERS:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))


def _copy(server_url: str, source_url: str) -> contextlib.AbstractContextManager[str]:
    return builds.scratch_database(server_url, prefix="coachdb_diff_copy", copy_of=source_url)


def _matches(name: str, prefixes: set[str]) -> bool:
    return any(name == p or name.startswith(p) for p in prefixes)


#: What function and policy files set on tables: RLS flags and grants, on tables and columns.
ACCESS = """
    select c.oid::regclass::text, concat_ws(' | ', 'rls=' || c.relrowsecurity, 'force=' || c.relforcerowsecurity,
           (select array_agg(a order by a::text) from unnest(c.relacl) a)::text)
    from pg_class c
    where c.relnamespace = any(%(schemas)s::regnamespace[]) and c.relkind in ('r', 'p', 'v', 'm')
    union all
    select c.oid::regclass::text || '.' || quote_ident(a.attname),
           (select array_agg(x order by x::text) from unnest(a.attacl) x)::text
    from pg_attribute a join pg_class c on c.oid = a.attrelid
    where c.relnamespace = any(%(schemas)s::regnamespace[]) and a.attacl is not null and not a.attisdropped
"""


def file_objects(url: str) -> dict[str, dict[str, str]]:
    """The objects function and policy files define, by kind: functions and policies (their
    whole catalog entries) and table access (RLS flags, table and column grants)."""
    with psycopg.connect(url, autocommit=True) as conn:
        snap = catalog.snapshot(conn)
        present = [s for s in catalog.APP_SCHEMAS if conn.execute("select to_regnamespace(%s)", [s]).fetchone()[0]]
        with conn.transaction():
            conn.execute("set local search_path = pg_catalog")
            access = dict(conn.execute(ACCESS, {"schemas": present}).fetchall())
    return {"function": snap["function"], "policy": snap["policy"], "access": access}


def files_to_carry(root: Path, previous_url: str, tree_url: str) -> list[tuple[str, str]]:
    """(name, text) of each function and policy file, in load order, that defines an object
    whose catalog entry is not the same in both states."""
    before, after = file_objects(previous_url), file_objects(tree_url)
    changed = {
        kind: {n for n in before[kind].keys() | after[kind].keys() if before[kind].get(n) != after[kind].get(n)}
        for kind in before
    }
    carried = []
    for file in sql_files(root, stages=("functions", "policies")):
        keys = defined_by([file.text]).keys()
        if any(_matches(name, keys[kind]) for kind, names in changed.items() for name in names):
            carried.append((file.name, file.text))
    return carried


def _annotated(risk: risks.StatementRisk) -> str:
    note = risk.comment()
    return (note + "\n" if note else "") + risk.statement.rstrip().rstrip(";") + ";\n"


def compose(
    name: str,
    engine: list[risks.StatementRisk],
    carried: list[tuple[str, str]],
    comments: list[risks.StatementRisk],
    squawked: bool,
) -> str:
    """The migration file: a header, the renames and the engine's statements, the carried
    files, then the comments the engine left out; each statement under its annotations."""
    risky = [r for r in engine + comments if r.risky]
    head = [
        f"-- {name}: written by `coachdb diff` from the edited tree (db/) against the previous state",
        f"-- (supabase/migrations), by the diff engine {engine_version()}; verified: applied to the previous",
        "-- state it gives the tree's catalog. Above each statement: the locks it took, rewrites and data",
        "-- loss as measured on a copy of the previous state"
        + ("; squawk's findings." if squawked else " (squawk was not installed: not linted)."),
        f"-- Statements that need a look: {len(risky)}.",
        "",
        "-- db push runs this file in one transaction: no lock is waited for longer than this.",
        LOCK_TIMEOUT,
        "",
    ]
    body = [_annotated(risk) for risk in engine]
    for file, text in carried:
        body.append(f"-- {file} changed: its new text, re-run whole (it is written to be re-runnable).\n")
        body.append(carry(file, text))
    if comments:
        body.append("-- Comments the diff engine does not carry (indexes, constraints, policies, triggers, types).\n")
        body += [_annotated(risk) for risk in comments]
    return "\n".join(head) + "\n" + "\n".join(body)


@contextlib.contextmanager
def _server(server_url: str | None) -> Iterator[str]:
    if server_url:
        yield server_url
        return
    from harness.providers import get_provider

    with get_provider("embedded") as server:
        yield server.url


def diff(
    name: str,
    *,
    server_url: str | None = None,
    root: Path = SQL_ROOT,
    directory: Path | None = None,
    renames: list[Rename] | None = None,
    classifier: risks.Classifier | None = None,
    write: bool = True,
) -> DiffResult:
    """Build both states on the server at ``server_url`` (a throwaway embedded one when
    None), write the verified, annotated migration ``<version>_<name>.sql`` into
    ``directory`` (supabase/migrations) and return it. Nothing is written when the tree and
    the migrations agree, or when the migration would not give the tree's catalog."""
    check_name(name)
    directory = directory or migrations_dir()
    renames = renames or []
    result = DiffResult()
    with (
        _server(server_url) as server,
        builds.scratch_database(server, prefix="coachdb_diff_prev") as previous,
        builds.scratch_database(server, prefix="coachdb_diff_tree") as tree,
    ):
        builds.from_migrations(previous, directory, root)
        builds.from_declared(tree, root)
        for url in (previous, tree):
            _drop_ledgers(url)
        carried = files_to_carry(root, previous, tree)
        result.carried = [file for file, _ in carried]
        failures = []
        for strategy in STRATEGIES:
            try:
                built = _attempt(name, server, previous, tree, renames, carried, strategy, classifier)
            except HarnessError as exc:
                failures.append(f"{strategy}: {exc}")
                continue
            if built is None:
                return result
            result.statement_risks, result.squawked, result.text = built
            break
        else:
            raise HarnessError("no migration from the diff engine passes verification:\n" + "\n".join(failures))
    if write:
        result.path = new_migration(name, result.text, directory)
    return result


def _attempt(
    name: str,
    server: str,
    previous: str,
    tree: str,
    renames: list[Rename],
    carried: list[tuple[str, str]],
    strategy: str,
    classifier: risks.Classifier | None,
) -> tuple[list[risks.StatementRisk], bool, str] | None:
    """One engine ordering: the measured, annotated and verified migration, or None when
    there is nothing to migrate."""
    with _copy(server, previous) as renamed:
        with psycopg.connect(renamed, autocommit=True) as conn:
            for rename in renames:
                try:
                    conn.execute(rename.statement())
                except psycopg.Error as exc:
                    raise HarnessError(f"--rename {rename.old}: {exc.diag.message_primary}") from exc
        statements = [r.statement() for r in renames]
        statements += engine_statements(renamed, tree, defined_by([text for _, text in carried]), strategy)
    carried_statements = [s for _, text in carried for s in split(text)]
    with _copy(server, previous) as trial:
        measured = risks.measure(trial, statements + carried_statements)[: len(statements)]
        comments = comment_statements(trial, tree)
        measured += risks.measure(trial, comments)
    if not measured and not carried:
        return None
    with psycopg.connect(previous) as conn:
        version = conn.info.server_version
    squawked = risks.lint(measured, f"{version // 10000}.0", preamble=LOCK_TIMEOUT + "\n")
    risks.classify(measured, classifier)
    text = compose(name, measured[: len(statements)], carried, measured[len(statements) :], squawked)
    with _copy(server, previous) as check:
        verify(check, tree, text)
    return measured, squawked, text


def verify(previous_url: str, tree_url: str, text: str) -> None:
    """Run the migration on ``previous_url`` the ``db push`` way (its statements as the CLI
    cuts them, in one transaction) and require the catalog of ``tree_url``."""
    with psycopg.connect(previous_url) as conn:
        for index, statement in enumerate(split(text)):
            try:
                conn.execute(statement.encode())
            except psycopg.Error as exc:
                raise HarnessError(
                    f"the migration fails at statement {index + 1}: {exc.diag.message_primary or exc}"
                ) from exc
        conn.commit()
    with psycopg.connect(previous_url, autocommit=True) as a, psycopg.connect(tree_url, autocommit=True) as b:
        problems = catalog.differences(catalog.snapshot(a), catalog.snapshot(b), ("migration", "tree"))
    if problems:
        raise HarnessError(
            "the migration does not give the edited tree's catalog (nothing written):\n  " + "\n  ".join(problems[:20])
        )
