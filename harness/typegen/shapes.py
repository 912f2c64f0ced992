"""The contract's JSON Schemas as type shapes: the one reading of the schemas that both the
TypeScript and the Python generators render.

Only what the contract uses is understood (``$ref``, ``anyOf``, ``enum``, ``const``,
``type``, ``properties``/``required``, ``items``); anything else is an error, so a new
keyword cannot silently widen a generated type. Value rules (lengths, ranges, patterns)
have no static type and stay in the schema, where the tests check them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import contract

# Keywords that constrain values but not their static type.
VALUE_RULES = {
    "pattern", "minLength", "maxLength", "minimum", "maximum", "format", "maxItems",
    "x-maxJsonbBytes", "description", "additionalProperties",
}  # fmt: skip


@dataclass(frozen=True)
class Prim:
    name: str  # string, integer, number, boolean, null


@dataclass(frozen=True)
class Literals:
    values: tuple[Any, ...]


@dataclass(frozen=True)
class EnumRef:
    name: str  # an enum type of the database


@dataclass(frozen=True)
class RowRef:
    table: str


@dataclass(frozen=True)
class Union:
    members: tuple[Shape, ...]


@dataclass(frozen=True)
class Array:
    item: Shape


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    shape: Shape


@dataclass(frozen=True)
class Obj:
    name: str  # a name for the object, for languages that need one (Python's TypedDict)
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class JsonObject:
    """A free-form JSON object."""


Shape = Prim | Literals | EnumRef | RowRef | Union | Array | Obj | JsonObject


def _camel(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for part in parts for p in part.split("_"))


def _resolve(ref: str, document: str) -> tuple[str, str, dict[str, Any]]:
    """(document, def name, schema) that ``ref`` points at from ``document``."""
    target, _, pointer = ref.partition("#")
    doc = target.removesuffix(".json") if target else document
    if not pointer.startswith("/$defs/") or pointer.count("/") != 2:
        raise ValueError(f"{document}: unsupported $ref {ref!r}")
    name = pointer.removeprefix("/$defs/")
    return doc, name, contract.load(doc)["$defs"][name]


def shape_of(schema: dict[str, Any], document: str, name: str, enums: set[str]) -> Shape:
    """The shape of ``schema`` (found in contract file ``document``); ``name`` names objects."""
    if "$ref" in schema:
        doc, def_name, target = _resolve(schema["$ref"], document)
        if doc == contract.COMMON and def_name in enums:
            return EnumRef(def_name)
        if "x-table" in target:
            return RowRef(target["x-table"])
        hint = name if doc == contract.COMMON else _camel(document, def_name)
        return shape_of(target, doc, hint, enums)
    unknown = set(schema) - VALUE_RULES - {"anyOf", "enum", "const", "type", "properties", "required", "items"}
    if unknown:
        raise ValueError(f"{document}: {name}: keywords the type generators do not understand: {sorted(unknown)}")
    if "anyOf" in schema:
        members = tuple(shape_of(s, document, name, enums) for s in schema["anyOf"])
        return Union(tuple(dict.fromkeys(members)))
    if "const" in schema:
        return Literals((schema["const"],))
    if "enum" in schema:
        return Literals(tuple(schema["enum"]))
    kind = schema.get("type")
    if kind in ("string", "boolean", "null", "integer", "number"):
        return Prim(kind)
    if kind == "array":
        return Array(shape_of(schema["items"], document, name + "Item", enums))
    if kind == "object":
        if "properties" not in schema:
            return JsonObject()
        required = set(schema.get("required", []))
        return Obj(
            name,
            tuple(
                Field(key, key in required, shape_of(sub, document, name + _camel(key), enums))
                for key, sub in schema["properties"].items()
            ),
        )
    raise ValueError(f"{document}: {name}: no type the generators understand: {schema}")


def rpc_shapes(rpc: str, enums: set[str]) -> tuple[Obj, Shape]:
    """(arguments, returns) of an RPC as shapes."""
    doc = contract.load(rpc)
    args = shape_of(doc["$defs"]["args"], rpc, _camel(rpc, "args"), enums)
    if not isinstance(args, Obj):
        raise ValueError(f"{rpc}: the arguments must be an object")
    return args, shape_of(doc["$defs"]["returns"], rpc, _camel(rpc, "returns"), enums)
