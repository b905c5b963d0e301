"""Build a pinned Go tool from source through the module proxy, into a directory.

``go install mod@v`` refuses modules with local replaces (Kubernetes' ``./staging``), so a
throw-away wrapper module requires the pinned module(s), maps each local replace to the same
release, copies the other replaces, and ``go build -v`` (progress: one line per package)
builds the main packages it imports from a ``//go:build tools`` file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hello_platform.core.errors import PlatformError
from hello_platform.core.proc import last_line
from hello_platform.core.progress import say
from hello_platform.toolchain.pins import Tool

HEARTBEAT_SECONDS = 15.0

GO_HINT = (
    "install Go {min} or newer and put it on PATH (or set HELLO_PLATFORM_GO to it), or put "
    "any Go >= 1.21 on PATH and export GOTOOLCHAIN=go{min}"
)
PROXY_HINT = "check that the Go module proxy is reachable and the pin exists"
#: The first Go that switches toolchains by GOTOOLCHAIN.
GOTOOLCHAIN_SINCE = (1, 21)


@dataclass(frozen=True)
class BuildStats:
    seconds: float
    peak_rss_mib: float
    packages_compiled: int
    how: str = "built now"


def version_tuple(text: str) -> tuple[int, ...]:
    """``go1.26.8`` / ``1.24`` / ``v1.2.3-rc.1`` -> (1, 26, 8); unparsable -> ()."""
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m:
        return ()
    return tuple(int(g) for g in m.groups() if g is not None)


def find_go() -> str | None:
    """The ``go`` command: $HELLO_PLATFORM_GO, then PATH, then /usr/local/go/bin/go."""
    found = os.environ.get("HELLO_PLATFORM_GO") or shutil.which("go")
    default = Path("/usr/local/go/bin/go")
    return found or (str(default) if default.exists() else None)


def toolchain(pinned: str = "") -> str:
    """GOTOOLCHAIN: the tool's pinned one, else the user's, else ``local`` (never ``auto``:
    the go found is not swapped behind the user's back for one a go.mod asks for)."""
    return pinned or os.environ.get("GOTOOLCHAIN", "").strip() or "local"


def check_go(min_version: str, *, needed_for: str, pinned: str = "") -> tuple[str, str]:
    """(go command, its version), or fail saying Go is missing or too old."""
    hint = GO_HINT.format(min=min_version)
    go = find_go()
    if go is None:
        raise PlatformError(
            f"building {needed_for} from source needs Go, which was not found", hint=hint
        )
    cmd, env = [go, "env", "GOVERSION"], {**os.environ, "GOTOOLCHAIN": toolchain(pinned)}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)
    except OSError as exc:
        raise PlatformError(
            f"building {needed_for} needs Go, but '{go}' does not run: {exc}", hint=hint
        ) from exc
    have = done.stdout.strip()
    if done.returncode != 0 or not version_tuple(have):
        raise PlatformError(f"'{go} env GOVERSION' failed: {done.stderr.strip()[-200:]}", hint=hint)
    if version_tuple(have) < version_tuple(min_version):
        switch = toolchain(pinned)
        why = (
            f" (GOTOOLCHAIN={switch} needs a go of 1.21 or newer to switch toolchains)"
            if switch != "local" and version_tuple(have) < GOTOOLCHAIN_SINCE
            else ""
        )
        raise PlatformError(
            f"building {needed_for} needs Go {min_version} or newer, and '{go}' is {have}{why}",
            hint=hint,
        )
    return go, have


def go_env(extra: Mapping[str, str] | None = None, *, pinned: str = "") -> dict[str, str]:
    """The environment of every go command: module mode, :func:`toolchain`, static binaries."""
    env = dict(os.environ)
    flags = env.get("GOFLAGS", "").split()
    flags = [f for f in flags if not f.startswith("-mod=")] + ["-mod=mod"]
    env.update({"GOFLAGS": " ".join(flags), "GOTOOLCHAIN": toolchain(pinned), "CGO_ENABLED": "0"})
    env.update(extra or {})
    return env


def _go(go: str, *args: str, cwd: Path | None, pinned: str) -> subprocess.CompletedProcess[str]:
    env = go_env(pinned=pinned)
    return subprocess.run(
        [go, *args], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )


def _go_logged(
    go: str, tool: Tool, src: Path, log: Path, args: list[str], *, what: str, hint: str = PROXY_HINT
) -> str:
    """A go command's stdout; its command line and stderr appended to ``log``."""
    with log.open("a") as fh:
        fh.write(f"$ go {' '.join(args)}\n")
    done = _go(go, *args, cwd=src, pinned=tool.go_toolchain)
    with log.open("a") as fh:
        fh.write(done.stderr)
    if done.returncode != 0:
        last = last_line(done.stderr)
        with contextlib.suppress(ValueError, AttributeError):
            last = json.loads(done.stdout).get("Error", last)  # `go mod download -json` says why
        raise PlatformError(f"{what} failed: {last}", hint=hint, log=str(log))
    return done.stdout


def wrapper_gomod(tool: Tool, modfiles: Sequence[Mapping[str, Any]]) -> str:
    primary = modfiles[0]
    lines = [f"module hpbuild/{tool.name}", "", f"go {primary.get('Go') or '1.22'}", ""]
    for gd in primary.get("Godebug") or []:
        lines.append(f"godebug {gd['Key']}={gd['Value']}")
    lines.append("")
    for mod in (tool.module, *tool.extra_modules):
        lines.append(f"require {mod} {tool.module_version}")
    lines.append("")
    seen: set[str] = set()
    for modfile in modfiles:
        required = {r["Path"] for r in modfile.get("Require") or []}
        for rep in modfile.get("Replace") or []:
            old, new = rep["Old"], rep["New"]
            key = old["Path"] + "@" + old.get("Version", "")
            if key in seen:
                continue
            if new["Path"].startswith(("./", "../", "/")):
                # A local replace points into the module's own repository: use the release
                # of that module cut with it. Replaces of modules not required are guards.
                if old["Path"] not in required:
                    continue
                lines.append(f"replace {old['Path']} => {old['Path']} {tool.local_replace_version}")
            else:
                lhs = old["Path"] + (f" {old['Version']}" if old.get("Version") else "")
                lines.append(f"replace {lhs} => {new['Path']} {new['Version']}")
            seen.add(key)
    return "\n".join(lines) + "\n"


def tools_go(packages: Sequence[str]) -> str:
    imports = "\n".join(f'\t_ "{p}"' for p in packages)
    return f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n"


def ldflags_string(tool: Tool, *, commit: str, date: str) -> str:
    """The ``-ldflags`` value: placeholders filled, values with spaces quoted for Go."""
    values = {
        "version": tool.version,
        "version_nov": tool.version.removeprefix("v"),
        "commit": commit,
        "date": date,
    }
    words = []
    for item in tool.ldflags:
        item = item.format(**values)
        if item.startswith("-X ") and " " in item[3:] and item[3] not in "'\"":
            item = f"-X '{item[3:]}'"
        words.append(item)
    return " ".join(words)


def default_binary_name(package: str) -> str:
    """The file name ``go build -o DIR/`` gives a main package (``x/server/v3`` -> server)."""
    parts = package.rstrip("/").split("/")
    if len(parts) > 1 and re.fullmatch(r"v\d+", parts[-1]):
        return parts[-2]
    return parts[-1]


def _run_go_build(
    cmd: list[str], *, cwd: Path, log: Path, announce: str, total: int, pinned: str = ""
) -> tuple[int, float, int]:
    """Run ``go build -v`` with heartbeats; return (exit code, peak RSS MiB, packages)."""
    compiled = 0
    start = time.monotonic()
    finished = threading.Event()

    def heartbeat() -> None:
        while not finished.wait(HEARTBEAT_SECONDS):
            m, s = divmod(int(time.monotonic() - start), 60)
            say(
                f"{announce} — {f'{m}m{s:02d}s' if m else f'{s}s'} elapsed, "
                f"{compiled}/{total} packages compiled, log: {log}"
            )

    with log.open("a") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        env = go_env(pinned=pinned)
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=heartbeat, daemon=True).start()
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                fh.write(line)
                fh.flush()
                if line.strip() and " " not in line.strip() and not line.startswith("#"):
                    compiled += 1
            # Not proc.wait(): wait4 reaps it with its peak memory.
            _, status, rusage = os.wait4(proc.pid, 0)
        finally:
            finished.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, rusage.ru_maxrss / 1024.0, compiled


def build(
    tool: Tool, *, go: str, have: str, dest_bin: Path, work: Path, log: Path, label: str = ""
) -> BuildStats:
    """Build every binary of ``tool`` into ``dest_bin`` (not existing yet), in ``work``."""
    start = time.monotonic()
    names = ", ".join(b.name for b in tool.binaries)
    announce = f"{label}building {tool.name} {tool.version} ({names})"
    say(f"{announce}: fetching modules through the Go module proxy, log: {log}")
    src, out = work / "src", work / "out"
    src.mkdir(parents=True)
    modfiles, info = _download(tool, go, src, log)
    need = str(modfiles[0].get("Go") or "")
    if need and version_tuple(have) < version_tuple(need):
        raise PlatformError(
            f"{tool.module}@{tool.module_version} needs Go {need} or newer, and go is {have}",
            hint=GO_HINT.format(min=need),
            log=str(log),
        )
    packages = [b.package for b in tool.binaries]
    total = _wrapper_module(tool, go, src, modfiles, packages, log)
    commit = str((info.get("Origin") or {}).get("Hash") or "unknown")
    date = str(info.get("Time") or "1970-01-01T00:00:00Z")
    ldflags = ldflags_string(tool, commit=commit, date=date)
    out.mkdir()
    cmd = [go, "build", "-v", "-trimpath", "-ldflags", ldflags, "-o", f"{out}/", *packages]
    say(f"{announce}: compiling up to {total} packages, log: {log}")
    code, peak, compiled = _run_go_build(
        cmd, cwd=src, log=log, announce=announce, total=total, pinned=tool.go_toolchain
    )
    if code != 0:
        raise PlatformError(
            f"building {tool.name} {tool.version} failed (go build exit {code})",
            hint="read the end of the build log",
            log=str(log),
        )
    dest_bin.mkdir(parents=True)
    for b in tool.binaries:
        built = out / default_binary_name(b.package)
        if not built.is_file():
            raise PlatformError(
                f"go build did not produce {built.name} for {tool.name}", log=str(log)
            )
        built.chmod(0o755)
        built.rename(dest_bin / b.name)
    seconds = time.monotonic() - start
    with log.open("a") as fh:
        fh.write(
            f"# built in {seconds:.1f}s, peak RSS {peak:.0f} MiB, "
            f"{compiled} packages compiled (of {total})\n"
        )
    return BuildStats(seconds=seconds, peak_rss_mib=peak, packages_compiled=compiled)


def _download(
    tool: Tool, go: str, src: Path, log: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The go.mod (as JSON) of each of the tool's modules, and the main one's download info."""
    modfiles = []
    info: dict[str, Any] = {}
    for i, mod in enumerate((tool.module, *tool.extra_modules)):
        at = f"{mod}@{tool.module_version}"
        args = ["mod", "download", "-json", at]
        dl = json.loads(_go_logged(go, tool, src, log, args, what=f"downloading {at}"))
        if i == 0:  # the .info of the main module: its commit time and, maybe, commit
            with contextlib.suppress(OSError, ValueError):
                info = json.loads(Path(str(dl.get("Info"))).read_text())
            info = {**dl, **(info if isinstance(info, dict) else {})}
        args = ["mod", "edit", "-json", dl["GoMod"]]
        modfiles.append(
            json.loads(_go_logged(go, tool, src, log, args, what=f"reading the go.mod of {mod}"))
        )
    return modfiles, info


def _wrapper_module(
    tool: Tool, go: str, src: Path, modfiles: list[dict[str, Any]], packages: list[str], log: Path
) -> int:
    """Write and tidy the wrapper module; return how many packages the build may compile."""
    (src / "go.mod").write_text(wrapper_gomod(tool, modfiles))
    (src / "tools.go").write_text(tools_go(packages))
    with log.open("a") as fh:
        fh.write((src / "go.mod").read_text())
    what = f"resolving the dependencies of {tool.name}"
    hint = "check that the Go module proxy is reachable"
    _go_logged(go, tool, src, log, ["mod", "tidy"], what=what, hint=hint)
    deps = _go(
        go, "list", "-deps", "-f", "{{.ImportPath}}", *packages, cwd=src, pinned=tool.go_toolchain
    )
    return len(deps.stdout.split()) if deps.returncode == 0 else 0
