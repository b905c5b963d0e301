"""The gate's findings, grouped by file and rule, and the one way it runs a policy tool."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hello_platform.core import paths
from hello_platform.core.errors import PlatformError

POLICY_DIR = paths.REPO_ROOT / "policies"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    rule: str
    message: str
    tool: str = "rego"


def rel(path: Path | str) -> str:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(paths.REPO_ROOT))
    except ValueError:
        return str(p)


def run_tool(
    cmd: Sequence[str | Path],
    *,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run a policy tool; its exit status says "findings", so only a missing binary or a hang
    is an error here."""
    args = [str(c) for c in cmd]
    try:
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise PlatformError(
            f"{what} failed: '{args[0]}' does not exist",
            hint="run 'nox -s tools' to provision the pinned tools",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(f"{what} did not finish within {timeout:.0f}s") from exc


def grouped(findings: Iterable[Finding]) -> dict[str, dict[str, list[Finding]]]:
    by_file: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in sorted(set(findings)):
        by_file[f.file][f.rule].append(f)
    return {k: dict(v) for k, v in sorted(by_file.items())}


def format_findings(findings: Iterable[Finding]) -> list[str]:
    lines = []
    for file, rules in grouped(findings).items():
        lines.append(file)
        for rule, items in rules.items():
            lines += [f"  {rule} [{item.tool}] {item.message}" for item in items]
    return lines


def failure(findings: Sequence[Finding]) -> PlatformError:
    files = grouped(findings)
    rules = sorted({f.rule for f in findings})
    return PlatformError(
        f"the policy gate found {len(set(findings))} violation(s) in {len(files)} file(s) "
        f"(rules: {', '.join(rules[:8])}{' ...' if len(rules) > 8 else ''})",
        hint="fix what the report above names, or skip a checkov check in "
        "policies/checkov/.checkov.yaml with its reason",
    )
