"""Resolve a pinned tool to a binary path: PATH, then the cache, then a build.

The cache is ``~/.cache/hello-platform/tools/<tool>/<version>/{bin/,toolchain.json,build.log}``;
a build runs in a ``.tmp-*`` sibling renamed into place at the end, so a version directory is
always complete, and warm resolution only stats it (never runs a cached binary).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.toolchain import debextract, download, gobuild
from hello_platform.toolchain.apt import ensure_debian_packages
from hello_platform.toolchain.pins import Binary, Pins, Tool, load

MANIFEST = "toolchain.json"
PATH_MEMO = "path-versions.json"

#: Builder(tool, dest_bin, work, log, label) -> BuildStats.
Builder = Callable[[Tool, Path, Path, Path, str], gobuild.BuildStats]


@dataclass(frozen=True)
class Resolution:
    tool: str
    binary: str
    version: str
    path: Path
    source: str  # "PATH", "cache", "built now", "downloaded", "debian"
    skipped: tuple[str, ...] = ()
    build_seconds: float | None = None
    peak_rss_mib: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path), "skipped": list(self.skipped)}


def tools_root() -> Path:
    return paths.cache_dir() / "tools"


def version_dir(tool: Tool) -> Path:
    return tools_root() / tool.name / tool.version


def build_log(tool: Tool) -> Path:
    return paths.cache_dir() / "logs" / "tools" / f"{tool.name}-{tool.version}.log"


def same_version(reported: str, pinned: str) -> bool:
    return reported.strip().removeprefix("v") == pinned.strip().removeprefix("v")


def reported_version(path: Path, binary: Binary, memo: dict[str, Any] | None = None) -> str | None:
    """The version ``path`` reports, memoised by mtime and size."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = f"{path.resolve()}|{' '.join(binary.version_args)}|{binary.version_regex}"
    if binary.version_from != "run":
        key += f"|{binary.version_from}"
    stamp = [st.st_mtime_ns, st.st_size]
    if memo is not None and key in memo and memo[key].get("stamp") == stamp:
        found = memo[key].get("version")
        return found if isinstance(found, str) else None
    cmd = [str(path), *binary.version_args]
    if binary.version_from == "buildinfo":  # the module versions in the Go build info
        cmd = [gobuild.find_go() or "go", "version", "-m", str(path)]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=20, check=False, stdin=subprocess.DEVNULL
        )
        output = done.stdout + "\n" + done.stderr
    except (OSError, subprocess.TimeoutExpired):
        output = ""
    m = re.search(binary.version_regex, output, re.MULTILINE)
    version = m.group(1) if m else None
    if memo is not None:
        memo[key] = {"stamp": stamp, "version": version}
    return version


def find_on_path(tool: Tool, binary: Binary, memo: dict[str, Any]) -> tuple[Path | None, list[str]]:
    """The first PATH binary (not ours) reporting the pinned version, and why others were not."""
    own = tools_root().resolve()
    seen: set[Path] = set()
    skipped: list[str] = []
    for entry in filter(None, os.environ.get("PATH", "").split(os.pathsep)):
        candidate = Path(entry) / binary.name
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        real = candidate.resolve()
        if real in seen or real.is_relative_to(own):
            continue
        seen.add(real)
        found = reported_version(candidate, binary, memo)
        if found is not None and same_version(found, tool.version):
            return candidate, skipped
        skipped.append(f"{candidate} reports {found or 'no version'}, pinned {tool.version}")
    return None, skipped


def cached_bin_dir(tool: Tool) -> Path | None:
    """The cache's bin dir for ``tool`` if its build is complete and matches the pin."""
    vdir = version_dir(tool)
    try:
        manifest = json.loads((vdir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("fingerprint") != tool.fingerprint:
        return None
    bindir = vdir / "bin"
    if all((bindir / b.name).is_file() for b in tool.binaries):
        return bindir
    return None


@contextlib.contextmanager
def _flock(lockfile: Path, waiting: str) -> Iterator[None]:
    lockfile.parent.mkdir(parents=True, exist_ok=True)
    with lockfile.open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(waiting)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def go_build_slot(tool: Tool | str) -> contextlib.AbstractContextManager[None]:
    """One Go build at a time on this machine: a big link takes 2-3 GB and both cores."""
    lockfile = tools_root() / ".go-build.lock"
    name = tool if isinstance(tool, str) else tool.name
    return _flock(lockfile, f"{name}: waiting for another Go build to finish ({lockfile})")


def verify_binaries(tool: Tool, bindir: Path, log: Path) -> None:
    for b in tool.binaries:
        found = reported_version(bindir / b.name, b)
        if found is None or not same_version(found, tool.version):
            raise PlatformError(
                f"the freshly built {b.name} reports {found or 'no version'}, not the pinned "
                f"{tool.version}, so it was not installed",
                hint=f"fix the ldflags or version_regex of [tools.{tool.name}] in toolchain.toml",
                log=str(log),
            )


def install(tool: Tool, builder: Builder, *, label: str = "") -> tuple[Path, str, Any]:
    """Make ``tool`` complete in the cache; return (bin dir, source, stats)."""
    lockfile = tools_root() / tool.name / f".{tool.version}.lock"
    waiting = f"waiting for another session that is building {tool.name} {tool.version}"
    with _flock(lockfile, f"{waiting} (lock {lockfile}, log {build_log(tool)})"):
        ready = cached_bin_dir(tool)
        if ready is not None:  # another session built it while we waited
            return ready, "cache", None
        parent = tools_root() / tool.name
        for stale in parent.glob(f".tmp-{tool.version}-*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a killed build; we hold the lock
        log = build_log(tool)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"# {tool.name} {tool.version}: build started {time.ctime()}\n")
        work = Path(tempfile.mkdtemp(dir=parent, prefix=f".tmp-{tool.version}-"))
        work.chmod(0o755)
        try:
            stats = builder(tool, work / "bin", work, log, label)
            verify_binaries(tool, work / "bin", log)
            manifest = {
                "tool": tool.name,
                "version": tool.version,
                "fingerprint": tool.fingerprint,
                "binaries": [b.name for b in tool.binaries],
                "built_at": time.time(),
                "build_seconds": round(stats.seconds, 1),
                "peak_rss_mib": round(stats.peak_rss_mib, 1),
                "packages_compiled": stats.packages_compiled,
                "how": stats.how,
                "pin": tool.raw,
            }
            shutil.rmtree(work / "out", ignore_errors=True)  # src/ stays: go.mod, go.sum
            shutil.copyfile(log, work / "build.log")
            (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
            final, old = version_dir(tool), parent / f".tmp-{tool.version}-old-{os.getpid()}"
            if final.exists():  # an older build of a changed pin: swap it out
                final.rename(old)
            work.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return final / "bin", stats.how, stats


@dataclass
class Resolver:
    """``build=False`` never builds or installs."""

    pins: Pins = field(default_factory=load)
    build: bool = True
    builder: Builder | None = None
    _memo: dict[str, Any] | None = None

    def _build(
        self, tool: Tool, dest_bin: Path, work: Path, log: Path, label: str
    ) -> gobuild.BuildStats:
        """The default builder: the .deb, else the pinned release download, else Go."""
        if tool.source == "deb":
            return debextract.fetch(tool, dest_bin, work / "deb", log, label)
        if (spec := download.usable(tool)) is not None:
            try:
                return download.fetch(tool, spec, dest_bin, log, label)
            except download.UnavailableError as exc:
                say(f"{label}{tool.name}: {exc}; building it from source instead")
                shutil.rmtree(dest_bin, ignore_errors=True)
        need = f"{tool.name} {tool.version}"
        go, have = gobuild.check_go(
            self.pins.go_min_version, needed_for=need, pinned=tool.go_toolchain
        )
        with go_build_slot(tool):
            return gobuild.build(
                tool, go=go, have=have, dest_bin=dest_bin, work=work, log=log, label=label
            )

    def resolve_tool(
        self, name: str, *, label: str = "", binaries: Iterable[Binary] | None = None
    ) -> list[Resolution]:
        tool, named = self.pins.find(name)
        results, missing = self._on_path(tool, list(binaries) if binaries is not None else named)
        if not missing:
            return results
        if tool.source == "debian":
            return results + self._debian(tool, missing)
        bindir = cached_bin_dir(tool)
        source, stats = "cache", None
        if bindir is None:
            bindir, source, stats = self._provision(tool, missing, label)
        secs, peak = (stats.seconds, stats.peak_rss_mib) if stats else (None, None)
        for b, skipped in missing:
            at = bindir / b.name
            res = Resolution(
                tool.name, b.name, tool.version, at, source, tuple(skipped), secs, peak
            )
            results.append(res)
        return results

    def _on_path(
        self, tool: Tool, wanted: list[Binary]
    ) -> tuple[list[Resolution], list[tuple[Binary, list[str]]]]:
        """The binaries on PATH at the pinned version (memoised), and the rest with why not."""
        memo_file = tools_root() / PATH_MEMO
        if self._memo is None:
            with contextlib.suppress(OSError, ValueError):
                self._memo = json.loads(memo_file.read_text())
            self._memo = self._memo if isinstance(self._memo, dict) else {}
        before = json.dumps(self._memo, sort_keys=True)
        results: list[Resolution] = []
        missing: list[tuple[Binary, list[str]]] = []
        try:
            for b in wanted:
                found, skipped = find_on_path(tool, b, self._memo)
                if found is not None:
                    results.append(
                        Resolution(tool.name, b.name, tool.version, found, "PATH", tuple(skipped))
                    )
                else:
                    missing.append((b, skipped))
        finally:
            if json.dumps(self._memo, sort_keys=True) != before:
                with contextlib.suppress(OSError):
                    memo_file.parent.mkdir(parents=True, exist_ok=True)
                    fd, tmp = tempfile.mkstemp(dir=memo_file.parent, prefix=".path-memo-")
                    with os.fdopen(fd, "w") as fh:
                        json.dump(self._memo, fh, indent=1, sort_keys=True)
                    Path(tmp).replace(memo_file)
        return results, missing

    def _provision(
        self, tool: Tool, missing: list[tuple[Binary, list[str]]], label: str
    ) -> tuple[Path, str, Any]:
        if not self.build:
            names = ", ".join(b.name for b, _ in missing)
            reasons = "; ".join(s for _, sk in missing for s in sk)
            raise PlatformError(
                f"{names} {tool.version} is not provisioned" + (f" ({reasons})" if reasons else ""),
                hint=f"run: nox -s tools -- {tool.name}",
            )
        notes = sorted({s for _, sk in missing for s in sk})
        for note in notes:
            say(f"{label}skipping {note}")
        try:
            return install(tool, self.builder or self._build, label=label)
        except PlatformError as err:
            if not notes:
                raise
            need = " and ".join(f"{b.name} {tool.version}" for b, _ in missing)
            raise PlatformError(
                f"{'; '.join(notes)}, and {err.message}",
                hint=f"{err.hint or 'fix that'}, or put {need} on PATH",
                log=err.log,
            ) from err

    def _debian(self, tool: Tool, missing: list[tuple[Binary, list[str]]]) -> list[Resolution]:
        if not self.build:
            raise PlatformError(
                f"{tool.name} {tool.version} is not installed",
                hint=f"run: nox -s tools -- {tool.name}",
            )
        if all(not skipped for _, skipped in missing):
            ensure_debian_packages([tool.package], why=f"{tool.name} {tool.version}")
        out = []
        for b, skipped in missing:
            found, again = find_on_path(tool, b, {})
            if found is None:
                seen = "; ".join(again or skipped) or "it is not on PATH"
                raise PlatformError(
                    f"{b.name} {tool.version} is pinned, but {seen}",
                    hint=f"install Debian's {tool.package} {tool.version}, or change the pin "
                    f"[tools.{tool.name}] in toolchain.toml",
                )
            out.append(Resolution(tool.name, b.name, tool.version, found, "debian", tuple(skipped)))
        return out

    def resolve(self, name: str) -> Path:
        tool, binaries = self.pins.find(name)
        binaries = [b for b in binaries if b.name == name] or binaries  # etcd: etcd, not etcdctl
        if len(binaries) > 1:
            raise PlatformError(
                f"{name} provides several binaries ({', '.join(b.name for b in binaries)})",
                hint="ask for one of them by name",
            )
        (res,) = self.resolve_tool(tool.name, binaries=binaries)
        return res.path


def resolve(name: str) -> Path:
    """Path of the pinned binary ``name`` (e.g. ``kubectl``), provisioning it if needed."""
    return Resolver().resolve(name)


def bin_dir(names: Iterable[str] | None = None, *, build: bool = True) -> Path:
    """A directory of symlinks to the resolved binaries of ``names`` (default: all tools)."""
    resolver = Resolver(build=build)
    wanted = list(names) if names is not None else list(resolver.pins.tools)
    target = tools_root() / "bin"
    target.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        for res in resolver.resolve_tool(name):
            link = target / res.binary
            tmp = target / f".{res.binary}.{os.getpid()}"
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            tmp.symlink_to(res.path)
            tmp.replace(link)
    return target
