"""The hello chart's static checks: lint, render, and schema-validate every values profile.

``hello-platform helm check`` runs, for every profile (``default``, ``local``, ``eks``) and
for a ``features`` variant that switches every optional template on:

1. ``helm lint --strict`` (values checked against ``values.schema.json``);
2. ``helm template`` with the pinned Kubernetes version;
3. kubeconform ``-strict`` against JSON schemas of that Kubernetes version.

There is no schema download here: the schemas are generated from the Kubernetes OpenAPI
(v2) document that ships in the ``k8s.io/kubernetes`` Go module of the pinned version
(``api/openapi-spec/swagger.json``, fetched with ``go mod download``), converted to
kubeconform's "standalone-strict" layout and cached under ``cache_dir()/kube-schemas``.

The structural assertions over the rendered manifests (probes, limits, securityContext,
selectors ...) and the schema negative cases are pytest tests (``tools/tests/test_chart.py``),
which ``nox -s helm`` runs with helm provisioned.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hello_platform.core import paths, proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step

#: The chart, and its values profiles (``default`` is values.yaml alone).
CHART_DIR = paths.REPO_ROOT / "deploy" / "helm" / "hello"
PROFILES: dict[str, str | None] = {
    "default": None,
    "local": "values-local.yaml",
    "eks": "values-eks.yaml",
}
#: The release name the deploy and the checks use.
RELEASE = "hello"
#: A render of every optional template (on top of the default profile), for the checks.
FEATURES_SETS: tuple[str, ...] = (
    "ingress.enabled=true",
    "ingress.tlsSecretName=hello-tls",
    "networkPolicy.enabled=true",
    "serviceMonitor.enabled=true",
    "prometheusRule.enabled=true",
    "metrics.podsService=true",
    "autoscaling.enabled=false",
    "service.type=NodePort",
    "service.nodePort=30080",
    "faults.unready=true",
    "faults.testFailure=true",
)
#: The local profile with request-rate autoscaling (a KEDA ScaledObject), for the checks.
REQUESTS_SETS: tuple[str, ...] = ("autoscaling.mode=requests",)
#: Kinds without a schema in the Kubernetes OpenAPI (CRDs); kubeconform skips them.
CRD_KINDS: tuple[str, ...] = ("ServiceMonitor", "PrometheusRule", "ScaledObject")
#: Bump when the OpenAPI -> JSON schema conversion changes (invalidates the cache).
SCHEMA_FORMAT = "1"

HELM_HINT = "run 'nox -s tools -- helm' to provision helm, then try again"


# ------------------------------------------------------------------------------ tools


def kubernetes_version() -> str:
    """The pinned Kubernetes version without the "v" (``1.34.4``), from toolchain.toml."""
    from hello_platform.toolchain import load

    return load().tools["kubernetes"].version.removeprefix("v")


def helm_binary(*, build: bool = True) -> Path:
    """The pinned helm (built on demand unless ``build`` is false)."""
    from hello_platform.toolchain import Resolver

    return Resolver(build=build).resolve("helm")


def kubeconform_binary(*, build: bool = True) -> Path:
    """The pinned kubeconform (built on demand unless ``build`` is false)."""
    from hello_platform.toolchain import Resolver

    return Resolver(build=build).resolve("kubeconform")


# ------------------------------------------------------------------------- helm calls


def profile_files(profile: str) -> list[Path]:
    """The values files of ``profile`` (on top of values.yaml, which helm always reads)."""
    if profile not in PROFILES:
        raise PlatformError(
            f"unknown values profile '{profile}'", hint=f"use one of: {', '.join(PROFILES)}"
        )
    name = PROFILES[profile]
    return [CHART_DIR / name] if name else []


def parse_set(item: str) -> tuple[str, str]:
    """Split a ``key=value`` of ``--set``, or fail saying what is wrong with it."""
    key, sep, value = item.partition("=")
    if not sep or not key or not re.fullmatch(r"[A-Za-z0-9_.\[\]\\/-]+", key):
        raise PlatformError(
            f"'--set {item}' is not of the form key=value",
            hint="e.g. --set autoscaling.maxReplicas=3",
        )
    return key, value


def values_args(
    values_files: Iterable[Path],
    sets: Iterable[str] = (),
    set_strings: Mapping[str, str] | None = None,
) -> list[str]:
    """helm arguments for values files, ``--set`` items and ``--set-string`` pairs, in order."""
    args: list[str] = []
    for f in values_files:
        args += ["--values", str(f)]
    for item in sets:
        parse_set(item)
        args += ["--set", item]
    for key, value in (set_strings or {}).items():
        args += ["--set-string", f"{key}={value}"]
    return args


def helm_failure(stdout: str, stderr: str) -> str:
    """The useful part of a failed helm call: lint findings, the ``Error:`` line and the
    schema findings after it."""
    findings = [ln.strip() for ln in stdout.splitlines() if ln.startswith(("[ERROR]", "[WARNING]"))]
    lines = [
        ln.strip()
        for ln in stderr.strip().splitlines()
        if ln.strip() and not ln.startswith("Use --debug")
    ]
    for i, line in enumerate(lines):
        if line.startswith("Error:"):
            lines = [line.removeprefix("Error:").strip(), *lines[i + 1 :]]
            break
    return " ".join([*lines[-8:], *findings])[:1500] or "no output"


def _helm(
    helm: Path,
    args: Sequence[str],
    *,
    what: str,
    hint: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> str:
    try:
        done = subprocess.run(
            [str(helm), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **(env or {})},
        )
    except FileNotFoundError as exc:
        raise PlatformError(f"{what} failed: '{helm}' does not exist", hint=HELM_HINT) from exc
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(f"{what} did not finish within {timeout:.0f}s", hint=hint) from exc
    if done.returncode != 0:
        detail = helm_failure(done.stdout, done.stderr)
        raise PlatformError(f"{what} failed: {detail}", hint=hint)
    return done.stdout


def lint(helm: Path, values_files: Sequence[Path], sets: Sequence[str] = ()) -> str:
    """``helm lint --strict`` of the chart with these values; returns helm's report."""
    return _helm(
        helm,
        ["lint", "--strict", str(CHART_DIR), *values_args(values_files, sets)],
        what="helm lint --strict",
        hint="fix the chart or the values it names",
    )


def render(
    helm: Path,
    *,
    values_files: Sequence[Path] = (),
    sets: Sequence[str] = (),
    set_strings: Mapping[str, str] | None = None,
    release: str = RELEASE,
    namespace: str = "default",
    kube_version: str | None = None,
) -> str:
    """``helm template``: the manifests this release would apply (tests included)."""
    args = ["template", release, str(CHART_DIR), "--namespace", namespace]
    if kube_version:
        args += ["--kube-version", kube_version]
    args += values_args(values_files, sets, set_strings)
    return _helm(
        helm,
        args,
        what="rendering the chart",
        hint="check the values files and --set items it names",
    )


# ----------------------------------------------------------- OpenAPI -> JSON schemas


_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_DROP_KEYS = ("description", "format", "x-kubernetes-group-version-kind")


def kind_suffix(group: str, version: str) -> str:
    """kubeconform's file-name suffix: ``-v1``, ``-apps-v1``, ``-networking-v1`` ..."""
    return f"-{version}" if not group else f"-{group.split('.')[0]}-{version}"


def _convert(node: Any, *, strict: bool) -> Any:
    """One OpenAPI v2 schema node as plain JSON schema (strict: no unknown fields)."""
    if isinstance(node, list):
        return [_convert(n, strict=strict) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "int-or-string":
        return {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP_KEYS or key.startswith("x-kubernetes-"):
            continue
        if key == "properties":
            out[key] = {k: _convert(v, strict=strict) for k, v in value.items()}
        else:
            out[key] = _convert(value, strict=strict)
    if strict and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            yield ref.removeprefix("#/definitions/")
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def openapi_to_schemas(swagger: Mapping[str, Any], *, strict: bool = True) -> dict[str, Any]:
    """Kubernetes' OpenAPI v2 document -> ``{file name: standalone JSON schema}``.

    One file per group/version/kind, named as kubeconform looks them up
    (``deployment-apps-v1.json``); each carries the definitions it references (transitively)
    under ``definitions``, so ``$ref``s resolve inside the file and recursion is fine.
    """
    raw = swagger.get("definitions") or {}
    defs: dict[str, Any] = {}
    for name, node in raw.items():
        if name == _INT_OR_STRING:
            defs[name] = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
        elif name == _QUANTITY:
            defs[name] = {"anyOf": [{"type": "string"}, {"type": "number"}]}
        else:
            defs[name] = _convert(node, strict=strict)
    files: dict[str, Any] = {}
    for name, node in raw.items():
        for gvk in node.get("x-kubernetes-group-version-kind") or []:
            if gvk.get("kind", "").endswith("List") or name.startswith("io.k8s.apimachinery"):
                continue
            closure: dict[str, Any] = {}
            todo = list(_refs(defs[name]))
            while todo:
                ref = todo.pop()
                if ref in closure or ref not in defs:
                    continue
                closure[ref] = defs[ref]
                todo += _refs(defs[ref])
            schema = {**defs[name], "definitions": dict(sorted(closure.items()))}
            fname = f"{gvk['kind'].lower()}{kind_suffix(gvk.get('group', ''), gvk['version'])}"
            files[fname + ".json"] = schema
    return files


def openapi_document(version: str) -> Path:
    """``swagger.json`` of Kubernetes ``version`` from the Go module cache (downloads it)."""
    from hello_platform.toolchain import gobuild

    go = gobuild.find_go()
    if go is None:
        raise PlatformError(
            "generating Kubernetes schemas needs Go (for the k8s.io/kubernetes "
            "module's OpenAPI document), which was not found",
            hint="install Go and put it on PATH, or set HELLO_PLATFORM_GO",
        )
    module = f"k8s.io/kubernetes@v{version}"
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [go, "mod", "download", "-json", module],
            capture_output=True,
            text=True,
            cwd=tmp,
            env=gobuild.go_env(),
            check=False,
            timeout=1800,
        )
    try:
        info = json.loads(done.stdout or "{}")
    except ValueError:
        info = {}
    if done.returncode != 0 or "Dir" not in info:
        why = info.get("Error") or proc.last_line(done.stderr)
        raise PlatformError(
            f"could not fetch {module} for its OpenAPI document: {why}",
            hint="check that the Go module proxy is reachable",
        )
    spec = Path(info["Dir"]) / "api" / "openapi-spec" / "swagger.json"
    if not spec.is_file():
        raise PlatformError(
            f"{module} has no api/openapi-spec/swagger.json",
            hint="pin a Kubernetes release in toolchain.toml",
        )
    return spec


def schema_root() -> Path:
    return paths.cache_dir() / "kube-schemas"


def schema_dir(version: str) -> Path:
    """Where kubeconform finds the schemas of ``version`` (its own directory layout)."""
    return schema_root() / f"v{version}-standalone-strict"


def ensure_schemas(version: str, *, spec: Path | None = None) -> Path:
    """Generate (once) and return the strict JSON schemas of Kubernetes ``version``."""
    target = schema_dir(version)
    stamp = target / ".complete"
    if stamp.is_file() and stamp.read_text().strip() == SCHEMA_FORMAT:
        return target
    with step(f"generating Kubernetes {version} JSON schemas from its OpenAPI document"):
        spec = spec or openapi_document(version)
        swagger = json.loads(spec.read_text())
        files = openapi_to_schemas(swagger)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
        for name, schema in files.items():
            (tmp / name).write_text(json.dumps(schema, separators=(",", ":")))
        (tmp / ".complete").write_text(SCHEMA_FORMAT + "\n")
        if target.exists():
            old = target.with_name(f".old-{target.name}-{os.getpid()}")
            target.rename(old)
            _rmtree(old)
        tmp.rename(target)
        say(f"{len(files)} schemas in {target}")
    return target


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


_KUBECONFORM_NOISE = re.compile(
    r"problem validating schema\. Check JSON formatting: jsonschema validation failed with "
    r"'[^']*' - "
)


@dataclass(frozen=True)
class Validation:
    """What kubeconform said about one render."""

    valid: int
    skipped: int
    summary: str


def validate(kubeconform: Path, manifests: str, *, version: str, what: str) -> Validation:
    """kubeconform -strict over ``manifests``; a PlatformError lists every invalid resource."""
    location = str(schema_root()) + (
        "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
        "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )
    cmd = [
        str(kubeconform),
        "-strict",
        "-summary",
        "-output",
        "json",
        "-kubernetes-version",
        version,
        "-schema-location",
        location,
        "-skip",
        ",".join(CRD_KINDS),
        "-",
    ]
    try:
        done = subprocess.run(
            cmd, input=manifests, capture_output=True, text=True, timeout=120, check=False
        )
    except FileNotFoundError as exc:
        raise PlatformError(
            f"'{kubeconform}' does not exist", hint="run 'nox -s tools -- kubeconform'"
        ) from exc
    try:
        report = json.loads(done.stdout)
    except ValueError as exc:
        raise PlatformError(
            f"kubeconform gave no report for {what}: {(done.stderr or done.stdout).strip()[-300:]}"
        ) from exc
    problems = [
        f"{r.get('kind')}/{r.get('name')}: {_KUBECONFORM_NOISE.sub('', str(r.get('msg')))}"
        for r in report.get("resources") or []
        if r.get("status") in ("statusInvalid", "statusError")
    ]
    summary = report.get("summary") or {}
    if problems or done.returncode != 0:
        raise PlatformError(
            f"{what} renders manifests that Kubernetes {version} rejects: "
            + "; ".join(problems or [done.stderr.strip()[-300:]]),
            hint="fix the template or values that produce them",
        )
    return Validation(
        int(summary.get("valid", 0)),
        int(summary.get("skipped", 0)),
        f"{summary.get('valid', 0)} valid, {summary.get('skipped', 0)} skipped",
    )


# -------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class Variant:
    """One set of values the checks lint, render and validate."""

    name: str
    values_files: tuple[Path, ...]
    sets: tuple[str, ...] = ()


def variants(profiles: Sequence[str] | None = None) -> list[Variant]:
    """Every profile, plus ``features`` (all optional templates on) and ``requests`` (the
    local profile scaling on request rate)."""
    names = list(profiles or [*PROFILES, "features", "requests"])
    out = []
    for name in names:
        if name == "features":
            out.append(Variant(name, (), FEATURES_SETS))
        elif name == "requests":
            out.append(Variant(name, tuple(profile_files("local")), REQUESTS_SETS))
        else:
            out.append(Variant(name, tuple(profile_files(name))))
    return out


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def check(
    profiles: Sequence[str] | None = None,
    *,
    helm: Path | None = None,
    kubeconform: Path | None = None,
    server: Path | None = None,
) -> list[str]:
    """Lint, render and validate each variant; return one summary line per variant.

    With ``server`` (a kubeconfig), each render is also applied with a server-side dry run
    into a Pod Security ``restricted`` namespace (``hello-dryrun``) of that cluster.
    """
    version = kubernetes_version()
    helm = helm or helm_binary()
    kubeconform = kubeconform or kubeconform_binary()
    ensure_schemas(version)
    lines = []
    for v in variants(profiles):
        with step(f"chart profile '{v.name}': lint --strict, render, kubeconform"):
            lint(helm, v.values_files, v.sets)
            manifests = render(helm, values_files=v.values_files, sets=v.sets, kube_version=version)
            result = validate(kubeconform, manifests, version=version, what=f"profile '{v.name}'")
            if server is not None:
                accepted = _dry_run(helm, server, manifests, what=f"profile '{v.name}'")
        kinds = sorted(set(re.findall(r"(?m)^kind: (\S+)", manifests)))
        lines.append(
            f"{v.name}: lint ok; {result.summary} against Kubernetes {version} ({', '.join(kinds)})"
        )
        if server is not None:
            lines[-1] += f"; server-side dry run: {accepted} accepted"
    return lines


DRY_RUN_NAMESPACE = "hello-dryrun"


def _dry_run(helm_bin: Path, kubeconfig: Path, manifests: str, *, what: str) -> int:
    from hello_platform.pipeline import deploy
    from hello_platform.toolchain import resolve

    kube = deploy.Kube(helm_bin, resolve("kubectl"), kubeconfig)
    return deploy.server_dry_run(kube, manifests, namespace=DRY_RUN_NAMESPACE, what=what)


def running_cluster(kubeconfig: Path | None) -> Path:
    """``kubeconfig``, or the embedded cluster's when it is up (it is not started here)."""
    if kubeconfig is not None:
        if not kubeconfig.is_file():
            raise PlatformError(f"--kubeconfig {kubeconfig} is not a file")
        return kubeconfig
    from hello_platform.substrate.cluster import kubeconfig_path, node
    from hello_platform.substrate.cluster.layout import Layout

    if not node.is_up(Layout.default()):
        raise PlatformError(
            "--server needs a running cluster, and the embedded one is not up",
            hint="start it with 'nox -s cluster' (or deploy), or pass --kubeconfig PATH",
        )
    return kubeconfig_path()


# ---------------------------------------------------------------------------- the CLI


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "helm",
        help="static checks of the hello chart, and rendering it",
        description="Static checks of deploy/helm/hello: helm lint --strict, helm template and "
        "kubeconform against the pinned Kubernetes version, for every values profile.",
    )
    sub = parser.add_subparsers(dest="helm_command", required=True)
    chk = sub.add_parser("check", help="lint + render + kubeconform every profile")
    chk.add_argument(
        "--profile",
        action="append",
        choices=[*PROFILES, "features", "requests"],
        help="only this profile (repeatable; default: all, plus 'features', 'requests')",
    )
    chk.add_argument(
        "--server",
        action="store_true",
        help="also apply each render with a server-side dry run (embedded cluster if it is up)",
    )
    chk.add_argument("--kubeconfig", type=Path, help="cluster for --server")
    chk.set_defaults(func=_run_check)
    ren = sub.add_parser("render", help="print the manifests of a profile")
    ren.add_argument("--profile", choices=list(PROFILES), default="local")
    ren.add_argument(
        "--values",
        "-f",
        action="append",
        type=Path,
        default=[],
        help="extra values file (repeatable)",
    )
    ren.add_argument(
        "--set", action="append", default=[], dest="sets", help="key=value (repeatable)"
    )
    ren.set_defaults(func=_run_render)
    sch = sub.add_parser("schemas", help="generate the Kubernetes JSON schemas; print their dir")
    sch.set_defaults(func=_run_schemas)


def _run_check(args: argparse.Namespace) -> int:
    server = running_cluster(args.kubeconfig) if args.server else None
    for line in check(args.profile, server=server):
        print(line)
    return 0


def _run_render(args: argparse.Namespace) -> int:
    for f in args.values:
        if not f.is_file():
            raise PlatformError(f"values file {f} does not exist")
    files = [*profile_files(args.profile), *args.values]
    print(
        render(
            helm_binary(), values_files=files, sets=args.sets, kube_version=kubernetes_version()
        ),
        end="",
    )
    return 0


def _run_schemas(args: argparse.Namespace) -> int:
    print(ensure_schemas(kubernetes_version()))
    return 0
