"""What the gate checks, sorted by kind; YAML or JSON that does not parse becomes a ``PARSE``
finding and is left out of the tools' runs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hello_platform.core import catalogue, paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.policy.findings import Finding, rel

DEFAULT_TARGETS = ("infra/terraform", ".github/workflows", "deploy/argocd")
SKIP_DIRS = {".git", ".nox", ".venv", "node_modules", "out", ".terraform", "__pycache__"}


@dataclass
class Targets:
    tf_files: list[Path] = field(default_factory=list)
    plans: list[Path] = field(default_factory=list)
    charts: list[Path] = field(default_factory=list)
    dockerfiles: list[Path] = field(default_factory=list)
    workflows: list[Path] = field(default_factory=list)
    argocd: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)
    unparsable: list[Finding] = field(default_factory=list)

    @property
    def tf_dirs(self) -> list[Path]:
        return sorted({f.parent for f in self.tf_files})

    def counts(self) -> dict[str, int]:
        return {
            "terraform files": len(self.tf_files),
            "plans": len(self.plans),
            "charts": len(self.charts),
            "manifests": len(self.manifests),
            "argo cd files": len(self.argocd),
            "dockerfiles": len(self.dockerfiles),
            "workflows": len(self.workflows),
        }


def default_targets(root: Path = paths.REPO_ROOT) -> list[Path]:
    out = [root / t for t in DEFAULT_TARGETS if (root / t).exists()]
    for svc in catalogue.load(root).services.values():
        out += [p for p in (svc.chart, svc.dockerfile) if p not in out]
    return out


def classify(given: Sequence[str] | None) -> Targets:
    if given:
        roots = [Path(p) for p in given]
        missing = [str(p) for p in roots if not p.exists()]
        if missing:
            raise PlatformError(
                f"no such file or folder: {', '.join(missing)}",
                hint="give existing files or folders (or no path, for the whole repository)",
            )
    else:
        roots = default_targets()
    targets = Targets()
    for root in roots:
        charts = [c.parent for c in _walk(root) if c.name == "Chart.yaml"]
        targets.charts += charts
        for f in _walk(root):
            if not any(c in f.parents for c in charts):
                _add_file(targets, f)
    return targets


def outermost(dirs: Iterable[Path]) -> list[Path]:
    """The folders of ``dirs`` that are not inside another one of them."""
    resolved = sorted({d.resolve() for d in dirs})
    return [d for d in resolved if not any(o != d and o in d.parents for o in resolved)]


def _walk(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    for base, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(base, name)


def _add_file(targets: Targets, f: Path) -> None:
    name, parts = f.name, f.resolve().parts
    if f.suffix == ".tf":
        targets.tf_files.append(f)
    elif name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile"):
        targets.dockerfiles.append(f)
    elif f.suffix == ".json":
        _add_json(targets, f)
    elif f.suffix in (".yml", ".yaml"):
        docs = _yaml(targets, f)
        if docs is None:
            return
        if ".github" in parts and "workflows" in parts:
            targets.workflows.append(f)
        elif "argocd" in parts or any(
            isinstance(d, dict) and str(d.get("apiVersion", "")).startswith("argoproj.io/")
            for d in docs
        ):
            targets.argocd.append(f)
        else:
            targets.manifests.append(f)


def _add_json(targets: Targets, f: Path) -> None:
    """A plan (``tofu show -json``) is checked; other JSON files are not."""
    text = f.read_text(errors="replace")
    try:
        doc = json.loads(text)
    except ValueError as err:
        if '"resource_changes"' in text[:4096]:
            line = getattr(err, "lineno", "?")
            where = f"line {line}: not valid JSON: {err}"
            targets.unparsable.append(Finding(rel(f), "PARSE", where, "parse"))
        return
    if isinstance(doc, dict) and ("resource_changes" in doc or "planned_values" in doc):
        targets.plans.append(f)


def _yaml(targets: Targets, f: Path) -> list[Any] | None:
    try:
        return list(yaml.safe_load_all(f.read_text()))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        targets.unparsable.append(
            Finding(rel(f), "PARSE", f"{line}not valid YAML: {problem}", "parse")
        )
        return None
