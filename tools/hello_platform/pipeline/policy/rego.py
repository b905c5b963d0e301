"""Rego: the policies themselves (opa fmt, check --strict, test) and ``conftest test`` of
inputs against them; rule ids come from each rule's ``# METADATA`` (``custom.id``)."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import proc
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.policy.findings import POLICY_DIR, Finding, rel, run_tool

QUOTED = 3
#: Where conftest's hcl2 parser puts the line and the problem in its error.
_HCL_ERROR = re.compile(r"\[:(\d+),\d+[^:]*:\s*([^\]]+)\]")


@dataclass(frozen=True)
class Verdict:
    passed: int = 0
    findings: list[Finding] = field(default_factory=list)


def static_check(opa: Path, policy_dir: Path = POLICY_DIR) -> None:
    fmt = run_tool([opa, "fmt", "--fail", "-l", policy_dir], what="opa fmt")
    if fmt.returncode != 0:
        files = [rel(f) for f in fmt.stdout.split()]
        if not files:
            raise PlatformError(f"opa fmt failed: {proc.last_line(fmt.stderr)}")
        raise PlatformError(
            f"Rego files are not formatted: {', '.join(files)}",
            hint=f"run 'opa fmt -w {rel(policy_dir)}' with the pinned opa "
            "('nox -s tools -- path opa' prints it)",
        )
    check = run_tool([opa, "check", "--strict", policy_dir], what="opa check --strict")
    if check.returncode != 0:
        errors = [line.strip() for line in check.stderr.splitlines() if ": rego_" in line]
        detail = "; ".join(errors[:QUOTED]) or proc.last_line(check.stderr)
        raise PlatformError(f"opa check --strict failed: {detail}", hint="fix the Rego it names")


def unit_tests(opa: Path, policy_dir: Path = POLICY_DIR) -> int:
    """How many Rego tests passed; a PlatformError names those that did not."""
    done = run_tool([opa, "test", policy_dir, "--format", "json"], what="opa test")
    try:
        results: list[dict[str, Any]] = json.loads(done.stdout or "null") or []
    except ValueError:
        results = []
    failing = [
        f"{str(r.get('package', '')).removeprefix('data.')}.{r.get('name')}"
        for r in results
        if r.get("fail") or r.get("error")
    ]
    if failing:
        raise PlatformError(
            f"{len(failing)} of {len(results)} Rego tests failed: {', '.join(failing)}",
            hint=f"run 'opa test {rel(policy_dir)} -v' for the traces",
        )
    if done.returncode != 0 or not results:
        raise PlatformError(
            f"opa test failed: {proc.last_line(done.stderr or done.stdout)}",
            hint="fix the Rego it names",
        )
    return len(results)


def conftest(
    conftest_bin: Path,
    files: Sequence[Path],
    kind: str,
    *,
    parser: str | None = None,
    label: Mapping[str, str] | None = None,
    policy_root: Path = POLICY_DIR,
) -> Verdict:
    """``conftest test`` of ``files`` with the policies of ``kind``; ``label`` renames inputs.
    conftest stops at the first unparsable file, so then each file is tried alone."""
    if not files:
        return Verdict()
    names = dict(label or {})
    cmd: list[str | Path] = [conftest_bin, "test", "--policy", policy_root / kind]
    cmd += ["--all-namespaces", "--no-color", "--output", "json"]
    cmd += ["--parser", parser] if parser else []
    done = run_tool([*cmd, *files], what=f"conftest ({kind})")
    try:
        results: list[dict[str, Any]] = json.loads(done.stdout)
    except ValueError:
        results = []
    if results and isinstance(results, list):
        return _verdict(results, names)
    if len(files) > 1:
        verdicts = [
            conftest(conftest_bin, [f], kind, parser=parser, label=names, policy_root=policy_root)
            for f in files
        ]
        return Verdict(sum(v.passed for v in verdicts), [f for v in verdicts for f in v.findings])
    text = (done.stderr or done.stdout).strip()
    match = _HCL_ERROR.search(text)
    where = f"line {match.group(1)}: {match.group(2).strip()}" if match else proc.last_line(text)
    name = names.get(str(files[0]), rel(files[0]))
    return Verdict(0, [Finding(name, "PARSE", f"cannot be parsed: {where}", "parse")])


def conftest_text(conftest_bin: Path, text: str, kind: str, *, label: str) -> Verdict:
    with tempfile.TemporaryDirectory(prefix="hello-policy-") as tmp:
        target = Path(tmp) / "manifests.yaml"
        target.write_text(text)
        return conftest(conftest_bin, [target], kind, label={str(target): label})


def _verdict(results: list[dict[str, Any]], label: Mapping[str, str]) -> Verdict:
    passed, found = 0, []
    for result in results:
        filename = str(result.get("filename"))
        name = label.get(filename, rel(filename))
        passed += int(result.get("successes") or 0)
        for item in result.get("failures") or []:
            rule = (item.get("metadata") or {}).get("id")
            if not isinstance(rule, str) or not rule:
                raise PlatformError(
                    f"a rule of the Rego package {result.get('namespace')} denied "
                    f"{name} without a rule id: {item.get('msg')}",
                    hint="every deny rule carries '# METADATA' with 'custom: id:' and "
                    'returns {"id": rego.metadata.rule().custom.id, "msg": msg}',
                )
            found.append(Finding(name, rule, str(item.get("msg"))))
    return Verdict(passed, found)
