"""Every ``aws_*`` block and reference of infra/terraform against ``providers schema -json``
(a file, or the installed provider's). Rules, each finding with its file and line:

* SCH001: an unknown resource or data source type;
* SCH002: an unknown argument or nested block;
* SCH003: a required argument or nested block (``min_items`` > 0) missing;
* SCH004: a computed-only attribute set as an argument;
* SCH005: a deprecated type, argument, block or attribute used;
* SCH006: a reference ``aws_T.N.attr`` / ``data.aws_T.N.attr`` to an attribute the type
  does not export.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hello_platform.pipeline.policy import Finding

#: Arguments of resource and data blocks that are Terraform's, not the provider's.
META = frozenset(
    {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}
)
_REF = re.compile(
    r"(?<![\w.])(?P<data>data\.)?(?P<type>aws_\w+)\.(?P<name>\w+)"
    r"(?P<path>(?:\[[^\]]*\]|\.\w+)*)"
)
_KIND = {"resource": "resource_schemas", "data": "data_source_schemas"}


@dataclass(frozen=True)
class Schema:
    version: str
    types: Mapping[str, Mapping[str, Any]]  # "resource"|"data" -> type -> schema
    absent: frozenset[str]

    def block(self, kind: str, type_name: str) -> Mapping[str, Any] | None:
        found = self.types[kind].get(type_name)
        return None if found is None else found["block"]


def from_json(doc: Mapping[str, Any], version: str) -> Schema:
    providers = doc["provider_schemas"]
    key = next(k for k in providers if k.endswith("/hashicorp/aws"))
    aws = providers[key]
    types = {kind: aws.get(field, {}) for kind, field in _KIND.items()}
    return Schema(version, types, frozenset(doc.get("x_absent", [])))


def load_file(path: Path) -> Schema:
    """A ``.json`` or ``.json.gz`` schema file; the version is read from its name."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        doc = json.load(fh)
    match = re.search(r"(\d+\.\d+\.\d+)", path.name)
    return from_json(doc, match.group(1) if match else path.name)


def parse(path: Path) -> dict[str, Any]:
    from hcl2.api import loads

    parsed: dict[str, Any] = loads(path.read_text())
    return parsed


def _blocks(parsed: Mapping[str, Any], kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for entry in parsed.get(kind) or []:
        for type_name, named in entry.items():
            for name, body in named.items():
                yield type_name, name, body


def line_of(lines: Sequence[str], start: int, key: str) -> int:
    """The line (1-based) of ``key = ...``, ``key {`` or ``dynamic "key"`` from ``start``."""
    pattern = re.compile(rf'^\s*({re.escape(key)}\s*[={{]|dynamic\s+"{re.escape(key)}")')
    for number in range(start, len(lines) + 1):
        if pattern.match(lines[number - 1]):
            return number
    return start


@dataclass
class _Context:
    file: str
    lines: list[str]
    what: str
    findings: list[Finding]

    def add(self, line: int, rule: str, message: str) -> None:
        self.findings.append(
            Finding(f"{self.file}:{line}", rule, f"{self.what}: {message}", "schema")
        )


def _body_items(body: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(name, value) of a block body, dynamic blocks unwrapped."""
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if key == "dynamic":
            for entry in value:
                for label, spec in entry.items():
                    content = spec.get("content") or [{}]
                    yield label, content
        else:
            yield key, value


def check_block(
    ctx: _Context, schema: Mapping[str, Any], body: Mapping[str, Any], start: int, path: str
) -> None:
    attributes = schema.get("attributes", {})
    nested = schema.get("block_types", {})
    present = set()
    for key, value in _body_items(body):
        present.add(key)
        if not path and key in META:
            continue
        line = line_of(ctx.lines, start, key)
        where = f"{path}{key}"
        if key in attributes:
            attr = attributes[key]
            if attr.get("computed") and not (attr.get("optional") or attr.get("required")):
                ctx.add(line, "SCH004", f"{where} is computed by the provider and cannot be set")
            if attr.get("deprecated"):
                ctx.add(line, "SCH005", f"{where} is deprecated")
        elif key in nested:
            block = nested[key]["block"]
            if block.get("deprecated"):
                ctx.add(line, "SCH005", f"block {where} is deprecated")
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, Mapping):
                    check_block(ctx, block, item, line, f"{where}.")
        else:
            ctx.add(line, "SCH002", f"{where} is not an argument or block of this type")
    for key, attr in attributes.items():
        if attr.get("required") and key not in present:
            ctx.add(start, "SCH003", f"required argument {path}{key} is missing")
    for key, spec in nested.items():
        if spec.get("min_items", 0) > 0 and key not in present:
            ctx.add(start, "SCH003", f"required block {path}{key} is missing")


def check_declarations(
    schema: Schema, file: str, text: str, parsed: Mapping[str, Any]
) -> list[Finding]:
    findings: list[Finding] = []
    lines = text.splitlines()
    for kind in _KIND:
        for type_name, name, body in _blocks(parsed, kind):
            if not type_name.startswith("aws_") or type_name in schema.absent:
                continue
            prefix = "data." if kind == "data" else ""
            ctx = _Context(file, lines, f"{prefix}{type_name}.{name}", findings)
            start = int(body.get("__start_line__", 1))
            block = schema.block(kind, type_name)
            if block is None:
                ctx.add(
                    start,
                    "SCH001",
                    f"{kind} type {type_name} does not exist in aws {schema.version}",
                )
                continue
            if block.get("deprecated"):
                ctx.add(start, "SCH005", f"{kind} type {type_name} is deprecated")
            check_block(ctx, block, body, start, "")
    return findings


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def expressions(text: str) -> Iterator[str]:
    """The contents of every ``${...}`` of a parsed string (nested braces balanced)."""
    start = text.find("${")
    while start != -1:
        depth, i = 0, start + 1
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                break
            i += 1
        yield text[start + 2 : i]
        start = text.find("${", i)


def _step(node: Any, segment: str) -> tuple[Any, bool]:
    """Follow one ``.name`` or ``[key]`` of a reference: (next node, whether it exists)."""
    if segment.startswith("["):
        if isinstance(node, list) and node[0] in ("list", "set", "map"):
            return node[1], True
        return node, True  # a nested block's index, or an instance key
    name = segment[1:]
    if isinstance(node, Mapping):  # a schema block
        if name in node.get("attributes", {}):
            return node["attributes"][name], True
        if name in node.get("block_types", {}):
            return node["block_types"][name]["block"], True
        return None, False
    if isinstance(node, list) and node[0] == "object":
        return (node[1][name], True) if name in node[1] else (None, False)
    return None, True  # a map key or a dynamic value: nothing more to check


def check_reference(schema: Schema, ref: re.Match[str]) -> tuple[str, str] | None:
    """(rule, message) when ``ref`` names an attribute its type lacks or one deprecated."""
    kind = "data" if ref["data"] else "resource"
    node: Any = schema.block(kind, ref["type"])
    if node is None:
        return None  # the declaration's SCH001 says it
    segments = re.findall(r"\[[^\]]*\]|\.\w+", ref["path"])
    walked = ref.group(0)[: len(ref.group(0)) - len(ref["path"])]
    for segment in segments:
        node, exists = _step(node, segment)
        walked += segment
        if not exists:
            return "SCH006", f"{walked}: {ref['type']} has no attribute {segment[1:]}"
        if isinstance(node, Mapping) and node.get("deprecated"):
            return "SCH005", f"{walked} is deprecated"
        if node is None:
            break
        if isinstance(node, Mapping) and "type" in node:
            node = node["type"]
    return None


def check_references(
    schema: Schema, file: str, text: str, parsed: Mapping[str, Any]
) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    body = {k: v for k, v in parsed.items() if k != "terraform"}
    for string in _strings(body):
        for expression in expressions(string):
            for ref in _REF.finditer(expression):
                problem = check_reference(schema, ref)
                if problem is None or ref.group(0) in seen:
                    continue
                seen.add(ref.group(0))
                offset = text.find(ref.group(0))
                line = text.count("\n", 0, offset) + 1 if offset >= 0 else 1
                findings.append(Finding(f"{file}:{line}", problem[0], problem[1], "schema"))
    return findings


def check_files(schema: Schema, files: Sequence[Path], root: Path) -> list[Finding]:
    """Every rule over ``files`` (named relative to ``root``); a parse error is SCH000."""
    findings: list[Finding] = []
    for path in files:
        name = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
        text = path.read_text()
        try:
            parsed = parse(path)
        except Exception as err:  # lark raises several unrelated types
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            findings.append(Finding(f"{name}:1", "SCH000", f"cannot parse: {first}", "schema"))
            continue
        findings += check_declarations(schema, name, text, parsed)
        findings += check_references(schema, name, text, parsed)
    return findings
