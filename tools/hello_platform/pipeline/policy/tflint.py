"""tflint with its bundled ``terraform`` ruleset (config ``policies/tflint/.tflint.hcl``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hello_platform.core import proc
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.policy.findings import ANSI, POLICY_DIR, Finding, rel, run_tool
from hello_platform.pipeline.policy.targets import outermost

TFLINT_CONFIG = POLICY_DIR / "tflint" / ".tflint.hcl"


def tflint(
    tflint_bin: Path, tf_dirs: Sequence[Path], *, config: Path = TFLINT_CONFIG
) -> list[Finding]:
    out: list[Finding] = []
    for root in outermost(tf_dirs):
        done = run_tool(
            [tflint_bin, "--recursive", f"--config={config}", "--format=json", "--no-color"],
            what="tflint",
            cwd=root,
        )
        try:
            data = json.loads(done.stdout)
        except ValueError:
            detail = proc.last_line(done.stderr or done.stdout)
            raise PlatformError(f"tflint gave no report in {rel(root)}: {detail}") from None
        out += [_issue(root, issue) for issue in data.get("issues") or []]
        out += [_error(root, error) for error in data.get("errors") or []]
    return out


def _issue(root: Path, issue: dict[str, Any]) -> Finding:
    rng = issue.get("range") or {}
    line = (rng.get("start") or {}).get("line")
    rule = (issue.get("rule") or {}).get("name", "tflint")
    where = rel(root / str(rng.get("filename", "")))
    return Finding(where, rule, f"line {line}: {issue.get('message')}", "tflint")


def _error(root: Path, error: dict[str, Any]) -> Finding:
    rng = error.get("range") or {}
    where = rel(root / str(rng.get("filename", ""))) if rng else rel(root)
    line = (rng.get("start") or {}).get("line")
    first = str(error.get("message", "")).strip().splitlines()[:1] or ["unknown error"]
    at = f"line {line}: " if line else ""
    return Finding(where, "PARSE", f"{at}{ANSI.sub('', first[0])}", "tflint")
