"""The pins: ``toolchain.toml`` at the repository root, read into plain dataclasses."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT

PINS_FILE = REPO_ROOT / "toolchain.toml"

#: go: built from source through the module proxy; debian: the package installed with apt;
#: deb: binaries unpacked from the pinned package into the cache, never installed.
SOURCES = ("go", "debian", "deb")
#: A binary's version comes from its output, or from ``go version -m`` (daemons without a
#: version flag, e.g. KEDA).
VERSION_FROM = ("run", "buildinfo")

#: Bump when the build recipe changes what it produces: every cached build is then redone.
RECIPE = "2"


@dataclass(frozen=True)
class Binary:
    name: str
    package: str
    version_args: tuple[str, ...]
    version_regex: str
    version_from: str = "run"


@dataclass(frozen=True)
class Download:
    """An official release artifact, used only when its SHA-256 for this platform is pinned."""

    url: str  # may contain {version}, {version_nov}, {os}, {arch}
    sha256: dict[str, str]  # "linux-amd64" -> hex digest
    members: dict[str, str]  # binary name -> path inside the archive (default: its name)


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    source: str
    binaries: tuple[Binary, ...]
    module: str = ""
    module_version: str = ""
    extra_modules: tuple[str, ...] = ()
    local_replace_version: str = ""
    ldflags: tuple[str, ...] = ()
    go_toolchain: str = ""  # GOTOOLCHAIN of this tool's go commands (its module needs a newer Go)
    package: str = ""
    download: Download | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def fingerprint(self) -> str:
        """A digest of the whole entry: a cached build is reused only for an identical pin."""
        pin = {"name": self.name, "recipe": RECIPE, **self.raw}
        blob = json.dumps(pin, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Pins:
    go_min_version: str
    tools: dict[str, Tool]
    path: Path

    def find(self, name: str) -> tuple[Tool, list[Binary]]:
        """The tool and binaries that ``name`` (a tool or a binary name) stands for."""
        if name in self.tools:
            tool = self.tools[name]
            return tool, list(tool.binaries)
        for tool in self.tools.values():
            for b in tool.binaries:
                if b.name == name:
                    return tool, [b]
        known = sorted({*self.tools, *(b.name for t in self.tools.values() for b in t.binaries)})
        raise PlatformError(
            f"unknown tool '{name}'",
            hint=f"known tools and binaries: {', '.join(known)}; pins live in {self.path.name}",
        )

    def select(self, names: list[str]) -> list[tuple[Tool, list[Binary]]]:
        """The tools (in toolchain.toml's order) and binaries ``names`` stand for (all if empty)."""
        wanted: dict[str, set[str]] = {}
        for name in names or list(self.tools):
            tool, binaries = self.find(name)
            wanted.setdefault(tool.name, set()).update(b.name for b in binaries)
        return [
            (tool, [b for b in tool.binaries if b.name in wanted[tool.name]])
            for tool in self.tools.values()
            if tool.name in wanted
        ]


def _str(entry: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise PlatformError(f"{where}: '{key}' must be a non-empty string")
    return value


def _strs(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlatformError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _download(spec: Any, where: str) -> Download | None:
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise PlatformError(f"{where} must be a table with url and sha256")
    sha = spec.get("sha256")
    if not isinstance(sha, dict) or not all(
        isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) for v in sha.values()
    ):
        raise PlatformError(f"{where}: sha256 must map os-arch to a 64-digit hex digest")
    members = spec.get("members", {})
    if not isinstance(members, dict):
        raise PlatformError(f"{where}: members must map binary names to archive paths")
    return Download(url=_str(spec, "url", where), sha256=dict(sha), members=dict(members))


def _tool(name: str, entry: dict[str, Any], where: str) -> Tool:
    version = _str(entry, "version", where)
    source = _str(entry, "source", where, "go")
    if source not in SOURCES:
        raise PlatformError(f"{where}: source must be one of {', '.join(SOURCES)}, not '{source}'")
    args = _strs(entry, "version_args", where)
    regex = _str(entry, "version_regex", where)
    raw_bins = entry.get("binaries")
    if not isinstance(raw_bins, dict) or not raw_bins:
        raise PlatformError(f"{where}: 'binaries' must map each binary name to its package")
    binaries = []
    for bname, spec in raw_bins.items():
        bwhere = f"{where}.binaries.{bname}"
        if isinstance(spec, str):
            spec = {"package": spec}
        if not isinstance(spec, dict):
            raise PlatformError(f"{bwhere}: must be a package path or a table")
        package = _str(spec, "package", bwhere, "")
        if source == "go" and not package:
            raise PlatformError(f"{bwhere}: a Go tool's binary needs its main package")
        b_regex = _str(spec, "version_regex", bwhere, regex)
        try:
            re.compile(b_regex, re.MULTILINE)
        except re.error as exc:
            raise PlatformError(f"{bwhere}: version_regex does not compile: {exc}") from exc
        version_from = _str(spec, "version_from", bwhere, "run")
        if version_from not in VERSION_FROM:
            raise PlatformError(f"{bwhere}: version_from must be one of {', '.join(VERSION_FROM)}")
        b_args = _strs(spec, "version_args", bwhere) or args
        binaries.append(Binary(bname, package, b_args, b_regex, version_from))
    download = _download(entry.get("download"), f"{where}.download")
    if source != "go":
        package = _str(entry, "package", where)
        return Tool(name, version, source, tuple(binaries), package=package, raw=entry)
    module = _str(entry, "module", where)
    go_toolchain = _str(entry, "go_toolchain", where, "")
    if go_toolchain and not re.fullmatch(r"go\d+\.\d+(\.\d+)?", go_toolchain):
        raise PlatformError(f"{where}: go_toolchain must name a Go release such as go1.27.3")
    module_version = _str(entry, "module_version", where, version)
    return Tool(
        name,
        version,
        source,
        tuple(binaries),
        module=module,
        module_version=module_version,
        extra_modules=_strs(entry, "extra_modules", where),
        local_replace_version=_str(entry, "local_replace_version", where, module_version),
        ldflags=_strs(entry, "ldflags", where),
        go_toolchain=go_toolchain,
        download=download,
        raw=entry,
    )


def load(path: Path | None = None) -> Pins:
    """Read and check toolchain.toml; a mistake in it is a PlatformError naming the entry."""
    path = path or PINS_FILE
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise PlatformError(f"the tool pins file {path} is missing") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PlatformError(f"{path.name} is not valid TOML: {exc}") from exc
    go = data.get("go", {})
    go_min = _str(go, "min_version", f"{path.name} [go]", "1.22")
    tools: dict[str, Tool] = {}
    for name, entry in data.get("tools", {}).items():
        if not isinstance(entry, dict):
            raise PlatformError(f"{path.name} [tools.{name}] must be a table")
        tools[name] = _tool(name, entry, f"{path.name} [tools.{name}]")
    return Pins(go_min_version=go_min, tools=tools, path=path)
