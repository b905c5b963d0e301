"""The one policy gate: every policy tool over the repository, or over the paths given.

``hello-platform policy [PATH ...]`` (``nox -s policy [-- PATH ...]``) sorts its targets
(the repository's by default: infra/terraform, the chart, the Dockerfile, the workflows,
deploy/argocd when present) by kind, then runs:

- Rego with conftest: ``policies/terraform`` over ``.tf`` files (``--parser hcl2``) and
  over plan JSON (``tofu show -json``), ``policies/argocd`` over Argo CD manifests,
  ``policies/kubernetes`` over other manifests and every rendered chart profile;
- checkov (``--skip-download``, config ``policies/checkov/.checkov.yaml``): terraform,
  terraform_plan, kubernetes (manifests and the rendered chart), dockerfile, github_actions;
- tflint core (bundled ``terraform`` ruleset; the AWS ruleset is not obtainable here).

Findings are grouped by file and rule id. A file that does not parse is named with its line
(a finding of rule ``PARSE``), never a traceback; any finding makes the gate fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import catalogue, paths
from hello_platform.core.errors import PlatformError

POLICY_DIR = paths.REPO_ROOT / "policies"
CHECKOV_CONFIG = POLICY_DIR / "checkov" / ".checkov.yaml"
TFLINT_CONFIG = POLICY_DIR / "tflint" / ".tflint.hcl"
#: What the gate checks when given no paths (missing ones are left out), besides every
#: service's chart and Dockerfile (:func:`default_targets`).
DEFAULT_TARGETS = ("infra/terraform", ".github/workflows", "deploy/argocd")
SKIP_DIRS = {".git", ".nox", ".venv", "node_modules", "out", ".terraform", "__pycache__"}
#: Rego packages per kind of input.
TERRAFORM_HCL = ("terraform.hcl",)
TERRAFORM_PLAN = ("terraform.plan",)
ARGOCD = ("argocd.applications",)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RULE = re.compile(r"^([A-Z][A-Z0-9_]*\d+):\s*(.*)$", re.DOTALL)


@dataclass(frozen=True, order=True)
class Finding:
    """One violation (or unparsable input): where, which rule, what, and which tool said so."""

    file: str
    rule: str
    message: str
    tool: str = "rego"


@dataclass
class Targets:
    """The inputs of the gate, by kind."""

    tf_dirs: list[Path] = field(default_factory=list)
    tf_files: list[Path] = field(default_factory=list)
    plans: list[Path] = field(default_factory=list)
    charts: list[Path] = field(default_factory=list)
    dockerfiles: list[Path] = field(default_factory=list)
    workflows: list[Path] = field(default_factory=list)
    argocd: list[Path] = field(default_factory=list)
    manifests: list[Path] = field(default_factory=list)

    def empty(self) -> bool:
        return not any(vars(self).values())


def rel(path: Path | str) -> str:
    """``path`` relative to the repository when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(paths.REPO_ROOT))
    except ValueError:
        return str(p)


# -------------------------------------------------------------------- classification


def _walk(root: Path) -> Iterable[Path]:
    if root.is_file():
        yield root
        return
    for base, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(base, name)


def default_targets(root: Path = paths.REPO_ROOT) -> list[Path]:
    """:data:`DEFAULT_TARGETS` that exist, then each service's chart and Dockerfile."""
    out = [root / t for t in DEFAULT_TARGETS if (root / t).exists()]
    for svc in catalogue.load(root).services.values():
        out += [p for p in (svc.chart, svc.dockerfile) if p not in out]
    return out


def classify(given: Sequence[str] | None) -> Targets:
    """Sort the given paths (or the repository's defaults) into :class:`Targets`."""
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
            if any(c in f.parents for c in charts):
                continue
            _add_file(targets, f)
    targets.tf_dirs = sorted({_tf_root(f) for f in targets.tf_files})
    return targets


def _add_file(targets: Targets, f: Path) -> None:
    name, parts = f.name, f.resolve().parts
    if f.suffix == ".tf":
        targets.tf_files.append(f)
    elif f.suffix == ".json" and _is_plan(f):
        targets.plans.append(f)
    elif name == "Dockerfile" or name.startswith("Dockerfile.") or name.endswith(".Dockerfile"):
        targets.dockerfiles.append(f)
    elif f.suffix in (".yml", ".yaml"):
        if ".github" in parts and "workflows" in parts:
            targets.workflows.append(f)
        elif "argocd" in parts or _mentions_argo(f):
            targets.argocd.append(f)
        else:
            targets.manifests.append(f)


def _tf_root(f: Path) -> Path:
    """The topmost folder above ``f`` (within the given tree) still holding .tf files."""
    return f.parent


def _is_plan(f: Path) -> bool:
    try:
        head = f.read_text(errors="replace")[:4096]
    except OSError:
        return False
    return '"resource_changes"' in head or ('"format_version"' in head and "planned_values" in head)


def _mentions_argo(f: Path) -> bool:
    try:
        return "argoproj.io/" in f.read_text(errors="replace")
    except OSError:
        return False


# ---------------------------------------------------------------------------- parsing


def parse_errors(targets: Targets) -> list[Finding]:
    """YAML and JSON inputs that do not parse, with their line; they are left out of
    the tools' runs (HCL errors come from conftest's parser, see :func:`rego`)."""
    import yaml

    found: list[Finding] = []
    for group in (targets.manifests, targets.argocd, targets.workflows):
        for f in list(group):
            try:
                list(yaml.safe_load_all(f.read_text()))
            except yaml.YAMLError as err:
                mark = getattr(err, "problem_mark", None)
                line = f"line {mark.line + 1}: " if mark is not None else ""
                problem = getattr(err, "problem", None) or str(err).splitlines()[0]
                found.append(Finding(rel(f), "PARSE", f"{line}not valid YAML: {problem}", "parse"))
                group.remove(f)
    for f in list(targets.plans):
        try:
            json.loads(f.read_text())
        except ValueError as err:
            line = getattr(err, "lineno", "?")
            found.append(Finding(rel(f), "PARSE", f"line {line}: not valid JSON: {err}", "parse"))
            targets.plans.remove(f)
    return found


# ------------------------------------------------------------------------------- rego


def _tool(
    cmd: Sequence[str | Path],
    *,
    what: str,
    cwd: Path | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
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


_HCL_ERROR = re.compile(r"\[:(\d+),\d+[^:]*:\s*([^\]]+)\]")


def rego(
    conftest: Path,
    files: Sequence[Path],
    policy_dir: Path,
    namespaces: Sequence[str],
    *,
    parser: str | None = None,
    label: dict[str, str] | None = None,
) -> list[Finding]:
    """``conftest test`` of ``files``; one Finding per denial (rule id from ``ID: msg``).

    A file conftest cannot parse is named (with its line for HCL); the others are still
    tested (conftest stops at the first unparsable file, so each is tried alone then).
    """
    if not files:
        return []
    cmd: list[str | Path] = [
        conftest,
        "test",
        "--policy",
        policy_dir,
        "--no-color",
        "--output",
        "json",
    ]
    for ns in namespaces:
        cmd += ["--namespace", ns]
    if parser:
        cmd += ["--parser", parser]
    done = _tool([*cmd, *files], what=f"conftest ({policy_dir.name})")
    try:
        results: list[dict[str, Any]] = json.loads(done.stdout)
    except ValueError:
        if len(files) > 1:
            return [
                f
                for one in files
                for f in rego(conftest, [one], policy_dir, namespaces, parser=parser, label=label)
            ]
        text = (done.stderr or done.stdout).strip()
        match = _HCL_ERROR.search(text)
        where = (
            f"line {match.group(1)}: {match.group(2).strip()}" if match else text.splitlines()[-1:]
        )
        return [Finding(rel(files[0]), "PARSE", f"cannot be parsed: {where}", "parse")]
    out = []
    for r in results:
        name = (label or {}).get(str(r.get("filename")), rel(str(r.get("filename"))))
        for kind in ("failures", "exceptions"):
            for item in r.get(kind) or []:
                rule, message = split_rule(str(item.get("msg")))
                out.append(Finding(name, rule, message))
    return out


def split_rule(msg: str) -> tuple[str, str]:
    """``"TF001: text"`` -> ``("TF001", "text")``; messages without an id get ``REGO``."""
    match = _RULE.match(msg)
    return (match.group(1), match.group(2)) if match else ("REGO", msg)


# ---------------------------------------------------------------------------- checkov


def checkov_binary() -> Path:
    """checkov of the policy session's venv (the ``checkov`` dependency group)."""
    from hello_platform.core import proc

    return Path(
        proc.venv_binary(
            "checkov",
            hint="run the gate as 'nox -s policy', whose venv has the checkov group of uv.lock",
        )
    )


def checkov(
    checkov_bin: Path,
    targets: Targets,
    rendered: dict[str, str],
    *,
    config: Path = CHECKOV_CONFIG,
) -> list[Finding]:
    """One checkov run over every target; ``rendered`` maps a label to chart YAML.

    Terraform folders are scanned in place (module sources resolve); everything else is
    staged in a temporary tree that checkov's frameworks recognise (.github/workflows/...),
    and findings are mapped back to the original files.
    """
    with tempfile.TemporaryDirectory(prefix="hello-checkov-") as tmp:
        stage = Path(tmp)
        label: dict[str, str] = {}

        def put(src_text: str, relpath: str, name: str) -> None:
            dest = stage / relpath
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(src_text)
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
        roots = [*_outermost(targets.tf_dirs)]
        if label:
            roots.append(stage)
        if not roots:
            return []
        cmd: list[str | Path] = [
            checkov_bin,
            "--config-file",
            config,
            "--skip-download",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ]
        for d in roots:
            cmd += ["-d", d]
        cmd += [
            "--framework",
            "terraform",
            "terraform_plan",
            "kubernetes",
            "dockerfile",
            "github_actions",
        ]
        # checkov's fork-based parallel runner deadlocked here on runs with several roots
        # (a worker left defunct, the parent waiting forever); serial costs little on 2 cores.
        env = {**os.environ, "CHECKOV_PARALLELIZATION_TYPE": "none"}
        done = _tool(cmd, what="checkov", env=env)
        return _checkov_findings(done, label)


def json_stream(text: str) -> list[dict[str, Any]]:
    """The reports of checkov's JSON output: one document per ``-d`` root, each an
    object or a list of objects (one per framework)."""
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


def _outermost(dirs: Sequence[Path]) -> list[Path]:
    resolved = sorted({d.resolve() for d in dirs})
    return [d for d in resolved if not any(o != d and o in d.parents for o in resolved)]


def _checkov_findings(
    done: subprocess.CompletedProcess[str], label: dict[str, str]
) -> list[Finding]:
    reports = json_stream(done.stdout)
    if not reports:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PlatformError(f"checkov gave no report: {detail[0]}")
    out = []
    for report in reports:
        results = report.get("results") or {}
        for check in results.get("failed_checks") or []:
            path = str(check.get("file_abs_path") or check.get("file_path"))
            name = label.get(str(Path(path).resolve()), rel(path))
            lines = check.get("file_line_range") or []
            where = f"line {lines[0]}: " if lines and lines[0] else ""
            out.append(
                Finding(
                    name,
                    str(check.get("check_id")),
                    f"{where}{check.get('resource')}: {check.get('check_name')}",
                    "checkov",
                )
            )
        for path in results.get("parsing_errors") or []:
            name = label.get(str(Path(path).resolve()), rel(path))
            out.append(Finding(name, "PARSE", "checkov cannot parse it", "checkov"))
    return out


# ----------------------------------------------------------------------------- tflint


def tflint(
    tflint_bin: Path, tf_dirs: Sequence[Path], *, config: Path = TFLINT_CONFIG
) -> list[Finding]:
    """``tflint --recursive`` from each outermost Terraform folder."""
    out: list[Finding] = []
    for root in _outermost(tf_dirs):
        done = _tool(
            [tflint_bin, "--recursive", f"--config={config}", "--format=json", "--no-color"],
            what="tflint",
            cwd=root,
        )
        try:
            data = json.loads(done.stdout)
        except ValueError:
            tail = (done.stderr or done.stdout).strip()[-300:]
            raise PlatformError(f"tflint gave no report in {rel(root)}: {tail}") from None
        for issue in data.get("issues") or []:
            rng = issue.get("range") or {}
            f = rel(root / str(rng.get("filename", "")))
            line = (rng.get("start") or {}).get("line")
            rule = (issue.get("rule") or {}).get("name", "tflint")
            out.append(Finding(f, rule, f"line {line}: {issue.get('message')}", "tflint"))
        for err in data.get("errors") or []:
            rng = err.get("range") or {}
            f = rel(root / str(rng.get("filename", ""))) if rng else rel(root)
            line = (rng.get("start") or {}).get("line")
            first = str(err.get("message", "")).strip().splitlines()[:1] or ["unknown error"]
            where = f"line {line}: " if line else ""
            out.append(Finding(f, "PARSE", f"{where}{_ANSI.sub('', first[0])}", "tflint"))
    return out


# ----------------------------------------------------------------------------- report


def grouped(findings: Iterable[Finding]) -> dict[str, dict[str, list[Finding]]]:
    """Findings by file, then by rule id (both sorted)."""
    by_file: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for f in sorted(set(findings)):
        by_file[f.file][f.rule].append(f)
    return {k: dict(v) for k, v in sorted(by_file.items())}


def format_findings(findings: Iterable[Finding]) -> list[str]:
    """The report: a line per file, then a line per rule id and message under it."""
    lines = []
    for file, rules in grouped(findings).items():
        lines.append(file)
        for rule, items in rules.items():
            for item in items:
                lines.append(f"  {rule} [{item.tool}] {item.message}")
    return lines


def failure(findings: Sequence[Finding]) -> PlatformError:
    files = grouped(findings)
    rules = sorted({f.rule for f in findings})
    return PlatformError(
        f"the policy gate found {len(findings)} violation(s) in {len(files)} file(s) "
        f"(rules: {', '.join(rules[:8])}{' ...' if len(rules) > 8 else ''})",
        hint="fix what the report above names, or skip a checkov check in "
        "policies/checkov/.checkov.yaml with its reason",
    )
