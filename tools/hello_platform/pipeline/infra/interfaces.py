"""The part of ``tofu validate`` that needs no provider: do the folders fit together?

``tofu validate`` needs the provider's schema, which these machines cannot install. What it
checks *between* our own folders needs no schema, so the provider-free checks do it here,
from ``conftest parse --parser hcl2`` (the HCL parser the Rego gate already uses):

* a ``module`` call with a local source passes only variables the module declares, and
  every variable it declares without a default;
* ``module.NAME.OUTPUT`` names a module called in that folder and an output it declares;
* ``var.X``, ``local.X``, ``data.TYPE.NAME`` and ``aws_TYPE.NAME`` name something declared
  in that folder.

Attribute names of resources (the schema's part) stay unchecked: that is what only the
real ``tofu validate`` can say, where the provider installs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import proc
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.policy import Finding

#: Arguments of a ``module`` block that are not input variables.
META_ARGUMENTS = frozenset({"source", "version", "providers", "count", "for_each", "depends_on"})

_REF = re.compile(
    r"(?<![\w.])(?:"
    r"var\.(?P<var>\w+)"
    r"|local\.(?P<local>\w+)"
    r"|module\.(?P<module>\w+)(?:\[[^\]]*\])?\.(?P<output>\w+)"
    r"|data\.(?P<dtype>\w+)\.(?P<dname>\w+)"
    r"|(?P<rtype>aws_\w+)\.(?P<rname>\w+)"
    r")"
)


@dataclass
class Folder:
    """What one Terraform folder (a module or a layer) declares, calls and references."""

    path: Path
    variables: dict[str, bool] = field(default_factory=dict)  # name -> required
    outputs: set[str] = field(default_factory=set)
    locals: set[str] = field(default_factory=set)
    data: set[tuple[str, str]] = field(default_factory=set)
    resources: set[tuple[str, str]] = field(default_factory=set)
    calls: dict[str, tuple[str, dict[str, Any], str]] = field(default_factory=dict)
    refs: list[tuple[str, str]] = field(default_factory=list)  # (file, reference)


def parse(conftest: Path, files: Sequence[Path]) -> dict[str, Any]:
    """``conftest parse --parser hcl2`` of ``files``: file path -> parsed body."""
    if not files:
        return {}
    out = proc.run(
        [conftest, "parse", "--parser", "hcl2", *files],
        what="conftest parse (hcl2)",
        timeout=120,
        capture=True,
    )
    parsed: dict[str, Any] = json.loads(out)
    if len(files) == 1 and str(files[0]) not in parsed:
        return {str(files[0]): parsed}
    return parsed


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def folders(parsed: Mapping[str, Any]) -> dict[Path, Folder]:
    """Group the parsed files by folder and collect what each declares and references."""
    found: dict[Path, Folder] = {}
    for name, body in parsed.items():
        path = Path(name)
        folder = found.setdefault(path.parent, Folder(path.parent))
        for var, blocks in (body.get("variable") or {}).items():
            folder.variables[var] = not any("default" in b for b in blocks)
        folder.outputs |= set(body.get("output") or {})
        for block in body.get("locals") or []:
            folder.locals |= set(block)
        for dtype, named in (body.get("data") or {}).items():
            folder.data |= {(dtype, n) for n in named}
        for rtype, named in (body.get("resource") or {}).items():
            folder.resources |= {(rtype, n) for n in named}
        for call, blocks in (body.get("module") or {}).items():
            folder.calls[call] = (str(blocks[0].get("source", "")), blocks[0], path.name)
        for text in _strings({k: v for k, v in body.items() if k != "terraform"}):
            folder.refs += [(path.name, m.group(0)) for m in _REF.finditer(text)]
    return found


def check(found: Mapping[Path, Folder]) -> list[Finding]:
    """The mismatches between the folders' declarations and their uses."""
    findings: list[Finding] = []

    def bad(folder: Folder, file: str, rule: str, message: str) -> None:
        findings.append(Finding(str(folder.path / file), rule, message, "interfaces"))

    for folder in found.values():
        for call, (source, args, file) in folder.calls.items():
            if not source.startswith("."):
                continue  # a registry or git module: its interface is not here
            called = found.get(Path(_normalize(folder.path / source)))
            if called is None:
                bad(folder, file, "TFI001", f'module "{call}": source {source} has no .tf files')
                continue
            given = set(args) - META_ARGUMENTS
            for name in sorted(given - set(called.variables)):
                bad(folder, file, "TFI002", f'module "{call}" passes {name}, which {source} '
                    "does not declare")  # fmt: skip
            for name in sorted(n for n, req in called.variables.items() if req and n not in given):
                bad(folder, file, "TFI003", f'module "{call}" does not pass {name}, which '
                    f"{source} requires")  # fmt: skip
        for file, ref in folder.refs:
            message = _undeclared(found, folder, ref)
            if message:
                bad(folder, file, "TFI004", message)
    return findings


def _normalize(path: Path) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return str(Path(*parts))


def _undeclared(found: Mapping[Path, Folder], folder: Folder, ref: str) -> str | None:
    m = _REF.fullmatch(ref)
    assert m is not None
    if m["var"]:
        ok = m["var"] in folder.variables
    elif m["local"]:
        ok = m["local"] in folder.locals
    elif m["module"]:
        if m["module"] not in folder.calls:
            return f"{ref}: no module {m['module']} is called here"
        source = folder.calls[m["module"]][0]
        called = found.get(Path(_normalize(folder.path / source)))
        ok = not source.startswith(".") or called is None or m["output"] in called.outputs
        if not ok:
            return f"{ref}: {source} has no output {m['output']}"
    elif m["dtype"]:
        ok = (m["dtype"], m["dname"]) in folder.data
    else:
        ok = (m["rtype"], m["rname"]) in folder.resources
    return None if ok else f"{ref} is referenced but not declared in this folder"


def check_files(conftest: Path, files: Sequence[Path]) -> list[Finding]:
    """Parse ``files`` and check the folders they make up; a parse failure is one finding."""
    try:
        parsed = parse(conftest, files)
    except PlatformError as err:
        return [Finding(str(files[0].parent), "TFI000", err.message, "interfaces")]
    return check(folders(parsed))
