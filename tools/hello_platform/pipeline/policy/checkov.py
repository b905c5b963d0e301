"""checkov over every target, in one run (config ``policies/checkov/.checkov.yaml``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hello_platform.core import proc
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.policy.findings import POLICY_DIR, Finding, rel, run_tool
from hello_platform.pipeline.policy.targets import SKIP_DIRS, Targets, outermost

CHECKOV_CONFIG = POLICY_DIR / "checkov" / ".checkov.yaml"
FRAMEWORKS = ("terraform", "terraform_plan", "kubernetes", "dockerfile", "github_actions")


def checkov_binary() -> Path:
    return Path(
        proc.venv_binary(
            "checkov",
            hint="run the gate as 'nox -s policy', whose venv has the checkov group of uv.lock",
        )
    )


def checkov(checkov_bin: Path, targets: Targets, rendered: Mapping[str, str]) -> list[Finding]:
    """One checkov run; ``rendered`` maps a label to chart YAML. Inputs are staged in one
    tree (with several ``-d`` roots checkov 3 leaves some frameworks unreported)."""
    with tempfile.TemporaryDirectory(prefix="hello-checkov-") as tmp:
        label = _stage(Path(tmp), targets, rendered)
        if not label:
            return []
        cmd: list[str | Path] = [checkov_bin, "--config-file", CHECKOV_CONFIG, "--skip-download"]
        cmd += ["--quiet", "--compact", "-o", "json", "-d", tmp, "--framework", *FRAMEWORKS]
        # checkov's fork-based parallel runner can deadlock (a worker left defunct).
        env = {**os.environ, "CHECKOV_PARALLELIZATION_TYPE": "none"}
        done = run_tool(cmd, what="checkov", env=env)
        return _findings(done, label)


def _stage(stage: Path, targets: Targets, rendered: Mapping[str, str]) -> dict[str, str]:
    """Copy the inputs where checkov looks; staged path (a folder ends in "/") -> label."""
    label: dict[str, str] = {}
    for i, tree in enumerate(outermost(targets.tf_dirs)):
        dest = stage / "terraform" / str(i)
        shutil.copytree(tree, dest, ignore=shutil.ignore_patterns(*SKIP_DIRS))
        label[f"{dest.resolve()}/"] = f"{rel(tree)}/"

    def put(text: str, relpath: str, name: str) -> None:
        dest = stage / relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
        label[str(dest.resolve())] = name

    for i, f in enumerate(targets.workflows):
        put(f.read_text(), f".github/workflows/{i}-{f.name}", rel(f))
    for i, f in enumerate(targets.dockerfiles):
        put(f.read_text(), f"docker/{i}/Dockerfile", rel(f))
    for i, f in enumerate([*targets.manifests, *targets.argocd]):
        put(f.read_text(), f"k8s/{i}-{f.name}", rel(f))
    for i, (name, text) in enumerate(rendered.items()):
        put(text, f"chart/{i}.yaml", name)
    for i, f in enumerate(targets.plans):
        put(f.read_text(), f"plans/{i}.json", rel(f))
    return label


def json_stream(text: str) -> list[dict[str, Any]]:
    """The reports of checkov's JSON output: objects, or lists of them, one after another."""
    decoder, pos, out = json.JSONDecoder(), 0, []
    text = text.strip()
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except ValueError:
            break
        out += value if isinstance(value, list) else [value]
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return [r for r in out if isinstance(r, dict)]


def _findings(done: subprocess.CompletedProcess[str], label: Mapping[str, str]) -> list[Finding]:
    reports = json_stream(done.stdout)
    if not reports:
        raise PlatformError(f"checkov gave no report: {proc.last_line(done.stderr or done.stdout)}")
    out = []
    for report in reports:
        results = report.get("results") or {}
        for check in results.get("failed_checks") or []:
            path = str(check.get("file_abs_path") or check.get("file_path"))
            lines = check.get("file_line_range") or []
            where = f"line {lines[0]}: " if lines and lines[0] else ""
            message = f"{where}{check.get('resource')}: {check.get('check_name')}"
            out.append(Finding(_name(path, label), str(check.get("check_id")), message, "checkov"))
        for path in results.get("parsing_errors") or []:
            out.append(Finding(_name(path, label), "PARSE", "checkov cannot parse it", "checkov"))
    return sorted(set(out))


def _name(path: str, label: Mapping[str, str]) -> str:
    staged = str(Path(path).resolve())
    if staged in label:
        return label[staged]
    for folder, name in label.items():
        if folder.endswith("/") and staged.startswith(folder):
            return name + staged.removeprefix(folder)
    return rel(path)
