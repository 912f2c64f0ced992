"""What a DDL statement does to a live table, read from PostgreSQL's own parse tree (pglast):
the lock it takes and on which tables, whether it rewrites or scans a table, whether it can
lose data, and whether it can run inside a transaction at all.

This is the one place that knows PostgreSQL's lock table for DDL. ``apply`` uses it to print
its plan, to lock the tables a transaction touches (in a fixed order, before anything else)
and to run ``concurrently`` statements outside the transaction; ``coachdb diff`` uses it to
annotate the migrations it writes. The API is two calls::

    from harness.locks import classify, classify_script
    effect = classify("alter table public.plans alter column weeks type bigint")
    effect.lock, effect.tables, effect.rewrites, effect.data_loss, effect.transactional
    # ('AccessExclusiveLock', ('public.plans',), True, True, True)
    effects = classify_script(text)   # one Effect per statement, in order

Lock modes are PostgreSQL's names (as ``pg_locks.mode`` shows them), taken from the
documentation's "Explicit Locking" and each command's reference page. Unqualified table
names are reported in ``public``, as the tree writes them. A statement the classifier does
not know is reported as taking ``AccessExclusiveLock`` on every table it names (the safe
assumption) with a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast, enums, parse_sql
from pglast.parser import ParseError
from pglast.stream import RawStream

#: PostgreSQL's table lock modes, weakest first.
MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)

#: The ``lock table ... in <mode> mode`` spelling of each mode.
LOCK_TABLE_MODE = {
    "AccessShareLock": "access share",
    "RowShareLock": "row share",
    "RowExclusiveLock": "row exclusive",
    "ShareUpdateExclusiveLock": "share update exclusive",
    "ShareLock": "share",
    "ShareRowExclusiveLock": "share row exclusive",
    "ExclusiveLock": "exclusive",
    "AccessExclusiveLock": "access exclusive",
}

_BLOCKS_READS = {"AccessExclusiveLock"}
_BLOCKS_WRITES = {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}


@dataclass(frozen=True)
class Effect:
    """What one statement does. ``lock`` is the strongest table lock it takes (None: none on
    an existing table); ``tables`` the tables that lock is on; ``rewrites``: the table is
    rewritten (a full copy under that lock); ``scans``: the table is read in full under it;
    ``data_loss``: rows or column values can be lost; ``transactional``: False for the
    statements PostgreSQL refuses inside a transaction block (``concurrently``, ``vacuum``)."""

    statement: str
    kind: str
    lock: str | None = None
    tables: tuple[str, ...] = ()
    rewrites: bool = False
    scans: bool = False
    data_loss: bool = False
    transactional: bool = True
    creates: tuple[tuple[str, str], ...] = ()  # (object kind, qualified name) the statement creates
    notes: tuple[str, ...] = field(default=())

    @property
    def blocks_reads(self) -> bool:
        return self.lock in _BLOCKS_READS

    @property
    def blocks_writes(self) -> bool:
        return self.lock in _BLOCKS_WRITES

    def describe(self) -> str:
        """One line for a plan: ``AccessExclusiveLock on public.plans (blocks reads); rewrites``."""
        if not self.lock:
            text = "no table lock"
        else:
            blocks = "blocks reads and writes" if self.blocks_reads else "blocks writes" if self.blocks_writes else ""
            text = f"{self.lock} on {', '.join(self.tables)}" + (f" ({blocks})" if blocks else "")
        flags = [
            flag
            for flag, on in (
                ("rewrites the table", self.rewrites),
                ("scans the table", self.scans and not self.rewrites),
                ("CAN LOSE DATA", self.data_loss),
                ("outside a transaction", not self.transactional),
            )
            if on
        ]
        return "; ".join([text, *flags, *self.notes])


def strongest(modes: list[str | None]) -> str | None:
    """The strongest of several lock modes (None when there is none)."""
    known = [m for m in modes if m]
    return max(known, key=MODES.index) if known else None


def _table(relation: ast.RangeVar) -> str:
    return f"{relation.schemaname or 'public'}.{relation.relname}"


def _names(items: tuple | None) -> str:
    return ".".join(s.sval for s in items or ())


def _qualified(items: tuple | None) -> str:
    name = _names(items)
    return name if "." in name else f"public.{name}"


#: Functions whose value changes per row: as a new column's default they rewrite the table
#: (a constant or stable default, ``now()`` included, is stored once in the catalog).
VOLATILE_FUNCTIONS = {"random", "gen_random_uuid", "uuid_generate_v4", "clock_timestamp", "timeofday", "nextval"}


def _volatile_default(node: object) -> bool:
    """True when a column default calls a volatile function: such a default rewrites the table."""
    if isinstance(node, ast.FuncCall) and node.funcname[-1].sval in VOLATILE_FUNCTIONS:
        return True
    if isinstance(node, ast.Node):
        return any(_volatile_default(getattr(node, attr)) for attr in node)
    if isinstance(node, tuple | list):
        return any(_volatile_default(item) for item in node)
    return False


def _alter_table(stmt: ast.AlterTableStmt, text: str) -> Effect:
    table = _table(stmt.relation)
    modes, rewrites, scans, loss, notes = [], False, False, False, []
    others: list[str] = []
    T = enums.AlterTableType
    for cmd in stmt.cmds or ():
        sub = cmd.subtype
        if sub in (T.AT_EnableRowSecurity, T.AT_DisableRowSecurity, T.AT_ForceRowSecurity, T.AT_NoForceRowSecurity):
            modes.append("AccessExclusiveLock")
        elif sub == T.AT_AddColumn:
            modes.append("AccessExclusiveLock")
            column = cmd.def_
            for c in column.constraints or ():
                if c.contype == enums.ConstrType.CONSTR_DEFAULT and _volatile_default(c.raw_expr):
                    rewrites = True
                    notes.append(f"column {column.colname}: a volatile default rewrites every row")
                if c.contype in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE):
                    scans = True
                if c.contype == enums.ConstrType.CONSTR_FOREIGN and c.pktable is not None:
                    others.append(_table(c.pktable))
        elif sub == T.AT_AlterColumnType:
            modes.append("AccessExclusiveLock")
            rewrites = loss = True
            notes.append(f"column {cmd.name}: a type change rewrites the table and can truncate or reject values")
        elif sub == T.AT_DropColumn:
            modes.append("AccessExclusiveLock")
            loss = True
            notes.append(f"column {cmd.name}: dropping it loses its values")
        elif sub == T.AT_SetNotNull:
            modes.append("AccessExclusiveLock")
            scans = True
        elif sub == T.AT_AddConstraint:
            c = cmd.def_
            if c.contype == enums.ConstrType.CONSTR_FOREIGN:
                modes.append("ShareRowExclusiveLock")
                if c.pktable is not None:
                    others.append(_table(c.pktable))
                scans = scans or not c.skip_validation
            elif c.contype in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE):
                modes.append("AccessExclusiveLock")
                if c.indexname:
                    notes.append(f"uses the existing index {c.indexname}: no build under the lock")
                else:
                    scans = True
                    notes.append("builds a unique index under the lock; prefer create unique index concurrently")
            else:
                modes.append("AccessExclusiveLock")
                scans = scans or not c.skip_validation
        elif sub == T.AT_ValidateConstraint:
            modes.append("ShareUpdateExclusiveLock")
            scans = True
        elif sub in (
            T.AT_EnableTrig,
            T.AT_DisableTrig,
            T.AT_EnableAlwaysTrig,
            T.AT_EnableReplicaTrig,
            T.AT_EnableTrigAll,
            T.AT_DisableTrigAll,
            T.AT_EnableTrigUser,
            T.AT_DisableTrigUser,
        ):
            modes.append("ShareRowExclusiveLock")
        elif sub in (
            T.AT_SetStatistics,
            T.AT_SetOptions,
            T.AT_ResetOptions,
            T.AT_SetRelOptions,
            T.AT_ResetRelOptions,
            T.AT_ClusterOn,
            T.AT_DropCluster,
        ):
            modes.append("ShareUpdateExclusiveLock")
        elif sub == T.AT_DropConstraint:
            modes.append("AccessExclusiveLock")
        else:
            modes.append("AccessExclusiveLock")
    return Effect(
        text,
        "alter table",
        strongest(modes),
        tuple(dict.fromkeys([table, *others])),
        rewrites,
        scans,
        loss,
        notes=tuple(notes),
    )


def _drop(stmt: ast.DropStmt, text: str) -> Effect:
    OT = enums.ObjectType
    kind = stmt.removeType
    if kind == OT.OBJECT_POLICY or kind == OT.OBJECT_TRIGGER or kind == OT.OBJECT_RULE:
        # the object list is (schema?, table, name)
        tables = tuple(_qualified(obj[:-1]) for obj in stmt.objects)
        mode = "AccessExclusiveLock"
        return Effect(text, f"drop {kind.name[7:].lower()}", mode, tables)
    if kind in (OT.OBJECT_TABLE, OT.OBJECT_MATVIEW):
        tables = tuple(_qualified(obj) for obj in stmt.objects)
        return Effect(text, "drop table", "AccessExclusiveLock", tables, data_loss=True, notes=("drops every row",))
    if kind == OT.OBJECT_INDEX:
        names = tuple(_qualified(obj) for obj in stmt.objects)
        if stmt.concurrent:
            return Effect(text, "drop index concurrently", "ShareUpdateExclusiveLock", names, transactional=False)
        return Effect(text, "drop index", "AccessExclusiveLock", names, notes=("on the index's table",))
    if kind == OT.OBJECT_SCHEMA and stmt.behavior == enums.DropBehavior.DROP_CASCADE:
        return Effect(text, "drop schema cascade", data_loss=True, notes=("drops every object in it",))
    if kind == OT.OBJECT_COLUMN:
        return Effect(text, "drop", data_loss=True)
    return Effect(text, f"drop {kind.name[7:].lower()}")


def _function_signature(stmt: ast.CreateFunctionStmt) -> str:
    """``schema.name(type, type)``: the identity PostgreSQL's regprocedure prints, from the
    parameters that count (in, inout, variadic)."""
    types = []
    for p in stmt.parameters or ():
        if p.mode in (enums.FunctionParameterMode.FUNC_PARAM_OUT, enums.FunctionParameterMode.FUNC_PARAM_TABLE):
            continue
        types.append(RawStream()(p.argType))
    return f"{_qualified(stmt.funcname)}({', '.join(types)})"


def classify(statement: str) -> Effect:
    """The effect of one SQL statement (see the module docstring)."""
    try:
        parsed = parse_sql(statement)
    except ParseError as exc:
        return Effect(statement, "unparsed", notes=(f"does not parse: {exc}",))
    if len(parsed) != 1:
        raise ValueError("classify takes exactly one statement; use classify_script for a file")
    return _classify(parsed[0].stmt, statement)


def _classify(stmt: ast.Node, text: str) -> Effect:
    OT = enums.ObjectType
    if isinstance(stmt, ast.AlterTableStmt):
        if stmt.objtype == OT.OBJECT_INDEX:
            return Effect(text, "alter index", "AccessExclusiveLock", (_table(stmt.relation),))
        return _alter_table(stmt, text)
    if isinstance(stmt, ast.IndexStmt):
        creates = (("index", f"{stmt.relation.schemaname or 'public'}.{stmt.idxname}"),) if stmt.idxname else ()
        if stmt.concurrent:
            return Effect(
                text,
                "create index concurrently",
                "ShareUpdateExclusiveLock",
                (_table(stmt.relation),),
                scans=True,
                transactional=False,
                creates=creates,
                notes=("reads and writes go on while it builds",),
            )
        return Effect(
            text,
            "create index",
            "ShareLock",
            (_table(stmt.relation),),
            scans=True,
            creates=creates,
            notes=("blocks writes while it builds; prefer create index concurrently on a live table",),
        )
    if isinstance(stmt, ast.CreateStmt):
        others = []
        for element in stmt.tableElts or ():
            constraints = element.constraints if isinstance(element, ast.ColumnDef) else [element]
            for c in constraints or ():
                if isinstance(c, ast.Constraint) and c.contype == enums.ConstrType.CONSTR_FOREIGN and c.pktable:
                    others.append(_table(c.pktable))
        lock = "ShareRowExclusiveLock" if others else None
        return Effect(
            text,
            "create table",
            lock,
            tuple(dict.fromkeys(others)),
            creates=(("table", _table(stmt.relation)),),
            notes=(("a foreign key locks the referenced table",) if others else ()),
        )
    if isinstance(stmt, ast.CreatePolicyStmt):
        return Effect(text, "create policy", "AccessExclusiveLock", (_table(stmt.table),))
    if isinstance(stmt, ast.AlterPolicyStmt):
        return Effect(text, "alter policy", "AccessExclusiveLock", (_table(stmt.table),))
    if isinstance(stmt, ast.CreateTrigStmt):
        return Effect(text, "create trigger", "ShareRowExclusiveLock", (_table(stmt.relation),))
    if isinstance(stmt, ast.DropStmt):
        return _drop(stmt, text)
    if isinstance(stmt, ast.TruncateStmt):
        tables = tuple(_table(r) for r in stmt.relations)
        return Effect(text, "truncate", "AccessExclusiveLock", tables, data_loss=True, notes=("deletes every row",))
    if isinstance(stmt, ast.DeleteStmt):
        return Effect(text, "delete", "RowExclusiveLock", (_table(stmt.relation),), data_loss=True)
    if isinstance(stmt, ast.UpdateStmt):
        return Effect(text, "update", "RowExclusiveLock", (_table(stmt.relation),))
    if isinstance(stmt, ast.InsertStmt):
        return Effect(text, "insert", "RowExclusiveLock", (_table(stmt.relation),))
    if isinstance(stmt, ast.RenameStmt):
        if stmt.relation is not None:
            return Effect(text, "rename", "AccessExclusiveLock", (_table(stmt.relation),))
        return Effect(text, "rename")
    if isinstance(stmt, ast.LockStmt):
        mode = MODES[stmt.mode - 1] if 1 <= stmt.mode <= len(MODES) else "AccessExclusiveLock"
        return Effect(text, "lock", mode, tuple(_table(r) for r in stmt.relations))
    if isinstance(stmt, ast.VacuumStmt):
        return Effect(
            text,
            "vacuum" if stmt.is_vacuumcmd else "analyze",
            "ShareUpdateExclusiveLock",
            tuple(_table(r.relation) for r in stmt.rels or ()),
            transactional=not stmt.is_vacuumcmd,
        )
    if isinstance(stmt, ast.ReindexStmt):
        concurrent = any(getattr(o, "defname", "") == "concurrently" for o in stmt.params or ())
        return Effect(
            text,
            "reindex",
            "ShareUpdateExclusiveLock" if concurrent else "AccessExclusiveLock",
            (_table(stmt.relation),) if stmt.relation else (),
            transactional=not concurrent,
        )
    if isinstance(stmt, ast.CommentStmt):
        if stmt.objtype in (OT.OBJECT_TABLE, OT.OBJECT_COLUMN):
            names = _names(stmt.object if stmt.objtype == OT.OBJECT_TABLE else stmt.object[:-1])
            return Effect(text, "comment", "ShareUpdateExclusiveLock", (names if "." in names else f"public.{names}",))
        return Effect(text, "comment")
    if isinstance(stmt, ast.GrantStmt):
        return Effect(text, "grant" if stmt.is_grant else "revoke")
    if isinstance(stmt, ast.CreateFunctionStmt):
        return Effect(
            text,
            "create function",
            creates=(("function", _function_signature(stmt)),)
            if not stmt.replace
            else (("function or replace", _function_signature(stmt)),),
        )
    if isinstance(stmt, ast.CreateEnumStmt):
        return Effect(text, "create type", creates=(("type", _qualified(stmt.typeName)),))
    if isinstance(stmt, ast.CompositeTypeStmt):
        return Effect(text, "create type", creates=(("type", _table(stmt.typevar)),))
    if isinstance(stmt, ast.CreateDomainStmt):
        return Effect(text, "create domain", creates=(("type", _qualified(stmt.domainname)),))
    if isinstance(stmt, ast.CreateSchemaStmt):
        return Effect(text, "create schema", creates=() if stmt.if_not_exists else (("schema", stmt.schemaname),))
    if isinstance(stmt, ast.ViewStmt):
        return Effect(text, "create view", creates=(() if stmt.replace else (("table", _table(stmt.view)),)))
    if isinstance(stmt, ast.AlterEnumStmt):
        return Effect(text, "alter type", notes=("a new enum value cannot be used in the same transaction",))
    if isinstance(
        stmt,
        ast.DoStmt
        | ast.SelectStmt
        | ast.VariableSetStmt
        | ast.AlterFunctionStmt
        | ast.AlterDefaultPrivilegesStmt
        | ast.CreateRoleStmt
        | ast.AlterRoleStmt
        | ast.GrantRoleStmt
        | ast.CreateExtensionStmt
        | ast.AlterOwnerStmt
        | ast.CreateSeqStmt
        | ast.DefineStmt,
    ):
        return Effect(text, type(stmt).__name__.removesuffix("Stmt").lower())
    return Effect(text, type(stmt).__name__, notes=("not classified: assume it may lock what it names",))


def classify_script(text: str) -> list[Effect]:
    """One Effect per statement of a script, in order (a script that does not parse gives
    one ``unparsed`` Effect; the server reports the syntax error when it runs)."""
    from pglast import split

    try:
        pieces = [text[s] for s in split(text, with_parser=True, only_slices=True)]
    except ParseError as exc:
        return [Effect(text, "unparsed", notes=(f"does not parse: {exc}",))]
    return [classify(piece.strip()) for piece in pieces]
