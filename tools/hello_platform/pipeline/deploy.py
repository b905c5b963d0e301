"""``hello-platform deploy``: build, push and release the service with Helm, then prove it.

Steps (each announced, each failure one sentence with what to do):

1. check the arguments, and render the chart with every values file and ``--set`` given
   (a typo'd key or malformed file fails here, before anything is built or deployed);
2. the cluster: the embedded one (``cluster.ensure_up()``, started if down) or
   ``--kubeconfig PATH [--context NAME]``;
3. ``image.build(push=True)``: the image, pushed to the local registry (or ``--image REF``:
   an image already pushed where the cluster pulls from, e.g. ECR for EKS; nothing is built);
4. the namespace, labelled Pod Security ``restricted`` (enforce, audit, warn);
5. ``helm upgrade --install --wait --atomic`` (``--rollback-on-failure`` on a helm that has
   it) with a timeout: a release whose pods never become Ready is rolled back, and since the
   Deployment's RollingUpdate has ``maxUnavailable: 0`` the previous pods serve throughout;
6. ``helm test`` (the chart's test pod asks the Service for /readyz, / and /version);
7. on the embedded cluster (whose node is this machine), a smoke request through the NodePort
   on 127.0.0.1: ``GET /`` and ``GET /version``, whose ``revision`` must be the one just built;
8. the URL, and how to reach the service from this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hello_platform.core import paths, proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.pipeline import helm

USAGE = (
    "usage: nox -s deploy -- [--kubeconfig PATH] [--context NAME] [--profile local|eks] "
    "[--values FILE ...] [--set key=value ...] [--namespace NS] [--release NAME] "
    "[--timeout SECONDS] [--image REPO:TAG[@DIGEST]] [--no-test]"
)
#: Flags the nox session accepts (it rejects anything else with the usage line).
FLAGS = (
    "--kubeconfig",
    "--context",
    "--profile",
    "--values",
    "-f",
    "--set",
    "--namespace",
    "-n",
    "--release",
    "--timeout",
    "--image",
    "--no-test",
    "-h",
    "--help",
)
DEFAULT_NAMESPACE = "hello"
DEFAULT_TIMEOUT = 300
#: Pod Security admission: the namespace enforces (and audits, warns) "restricted".
PSA_LABELS = {
    f"pod-security.kubernetes.io/{mode}{suffix}": value
    for mode in ("enforce", "audit", "warn")
    for suffix, value in (("", "restricted"), ("-version", "latest"))
}
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_IMAGE_REF = re.compile(
    r"(?P<repo>[a-z0-9][a-z0-9._:/-]*?):(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
    r"(@(?P<digest>sha256:[a-f0-9]{64}))?"
)


class Image(Protocol):
    """What the deploy needs of ``image.ImageRef``."""

    @property
    def registry(self) -> str: ...
    @property
    def repository(self) -> str: ...
    @property
    def tag(self) -> str: ...
    @property
    def digest(self) -> str | None: ...
    @property
    def ref(self) -> str: ...


@dataclass(frozen=True)
class Options:
    """The deploy's arguments, validated by :func:`options`."""

    kubeconfig: Path | None = None
    context: str | None = None
    profile: str = "local"
    values: tuple[Path, ...] = ()
    sets: tuple[str, ...] = ()
    namespace: str = DEFAULT_NAMESPACE
    release: str = helm.RELEASE
    timeout: int = DEFAULT_TIMEOUT
    run_tests: bool = True
    #: A pushed image to release instead of building one (e.g. for EKS, from ECR).
    image: str | None = None


def options(args: argparse.Namespace) -> Options:
    """Check the parsed arguments; a PlatformError names the first bad one."""
    kubeconfig = Path(args.kubeconfig).expanduser() if args.kubeconfig else None
    if kubeconfig is not None and not kubeconfig.is_file():
        raise PlatformError(
            f"--kubeconfig {kubeconfig} is not a file",
            hint="pass the path of an existing kubeconfig, or omit it to "
            "deploy to the embedded local cluster",
        )
    if args.context and kubeconfig is None:
        raise PlatformError(
            "--context needs --kubeconfig", hint="the embedded cluster's kubeconfig has one context"
        )
    values = tuple(Path(v).expanduser() for v in args.values)
    for v in values:
        if not v.is_file():
            raise PlatformError(f"values file {v} does not exist", hint=USAGE)
    for item in args.sets:
        helm.parse_set(item)
    for what, name in (("--namespace", args.namespace), ("--release", args.release)):
        if not _DNS_LABEL.fullmatch(name) or len(name) > 53:
            raise PlatformError(
                f"{what} '{name}' is not a valid name",
                hint="use lower-case letters, digits and '-' (at most 53)",
            )
    if args.image and not _IMAGE_REF.fullmatch(args.image):
        raise PlatformError(
            f"--image {args.image} is not of the form REPOSITORY:TAG[@sha256:DIGEST]",
            hint="e.g. --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:0.1.0-abc1234",
        )
    if not 10 <= args.timeout <= 3600:
        raise PlatformError(
            f"--timeout {args.timeout} is out of range", hint="give seconds between 10 and 3600"
        )
    return Options(
        kubeconfig=kubeconfig,
        context=args.context or None,
        profile=args.profile,
        values=values,
        sets=tuple(args.sets),
        namespace=args.namespace,
        release=args.release,
        timeout=args.timeout,
        run_tests=not args.no_test,
        image=args.image or None,
    )


# ------------------------------------------------------------------------- tool calls


@dataclass
class Kube:
    """helm and kubectl pointed at one cluster (kubeconfig + optional context)."""

    helm: Path
    kubectl: Path
    kubeconfig: Path
    context: str | None = None
    log: Path = field(default_factory=lambda: paths.out_dir() / "deploy" / "deploy.log")

    def _run(
        self, argv: Sequence[str], *, what: str, timeout: float, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        try:
            done = subprocess.run(
                list(argv),
                input=stdin,
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PlatformError(
                f"{what} did not finish within {timeout:.0f}s", log=str(self.log)
            ) from exc
        except FileNotFoundError as exc:
            raise PlatformError(
                f"{what} failed: '{argv[0]}' does not exist",
                hint="run 'nox -s tools' to provision the pinned tools",
            ) from exc
        with self.log.open("a") as fh:
            fh.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}(exit {done.returncode})\n")
        return done

    def helm_cmd(
        self, *args: str, what: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.helm), *args, "--kubeconfig", str(self.kubeconfig)]
        if self.context:
            argv += ["--kube-context", self.context]
        done = self._run(argv, what=what, timeout=timeout)
        if check and done.returncode != 0:
            raise PlatformError(
                f"{what} failed: {helm.helm_failure(done.stdout, done.stderr)}", log=str(self.log)
            )
        return done

    def kubectl_cmd(
        self,
        *args: str,
        what: str,
        stdin: str | None = None,
        timeout: float = 60,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.kubectl), "--kubeconfig", str(self.kubeconfig)]
        if self.context:
            argv += ["--context", self.context]
        done = self._run([*argv, *args], what=what, timeout=timeout, stdin=stdin)
        if check and done.returncode != 0:
            last = proc.last_line(done.stderr)
            raise PlatformError(f"{what} failed: {last}", log=str(self.log))
        return done


def rollback_flag(helm_bin: Path) -> str:
    """``--rollback-on-failure`` where helm has it (Helm 4), else ``--atomic`` (Helm 3)."""
    done = subprocess.run(
        [str(helm_bin), "upgrade", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return "--rollback-on-failure" if "--rollback-on-failure" in done.stdout else "--atomic"


def ensure_namespace(kube: Kube, namespace: str) -> None:
    """Create or update the namespace with the Pod Security ``restricted`` labels."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": PSA_LABELS},
    }
    kube.kubectl_cmd(
        "apply", "-f", "-", what=f"creating namespace {namespace}", stdin=json.dumps(manifest)
    )


def server_dry_run(kube: Kube, manifests: str, *, namespace: str, what: str) -> int:
    """``kubectl apply --dry-run=server --validate=strict`` into a Pod Security ``restricted``
    namespace: the API server's own validation and admission (a Pod Security violation, even
    one that is only a warning for a Deployment, fails). Returns how many objects passed."""
    ensure_namespace(kube, namespace)
    docs = [d for d in re.split(r"(?m)^---\s*$", manifests) if re.search(r"(?m)^kind: ", d)]
    docs = [d for d in docs if not re.search(rf"(?m)^kind: ({'|'.join(helm.CRD_KINDS)})$", d)]
    # Node ports are cluster-wide and the deployed release holds the fixed one: let the dry
    # run's Service take any.
    docs = [re.sub(r"(?m)^\s+nodePort: \d+\n", "", d) for d in docs]
    done = kube.kubectl_cmd(
        "apply",
        "--dry-run=server",
        "--validate=strict",
        "--namespace",
        namespace,
        "-f",
        "-",
        what=f"server-side dry run of {what}",
        stdin="\n---\n".join(docs),
        check=False,
    )
    problems = [
        ln.strip()
        for ln in (done.stderr or "").splitlines()
        if ln.strip() and ("would violate PodSecurity" in ln or ln.startswith("Error"))
    ]
    if done.returncode != 0 or problems:
        detail = "; ".join(problems) or proc.last_line(done.stderr)
        raise PlatformError(
            f"the cluster rejects {what}: {detail}",
            hint="fix the template or values it names",
            log=str(kube.log),
        )
    return len(docs)


def release_status(kube: Kube, release: str, namespace: str) -> dict[str, Any] | None:
    """``helm status -o json`` of the release, or None when it does not exist."""
    done = kube.helm_cmd(
        "status",
        release,
        "--namespace",
        namespace,
        "--output",
        "json",
        what="helm status",
        check=False,
    )
    if done.returncode != 0:
        return None
    try:
        status: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return None
    return status


def image_values(image: Image) -> dict[str, Any]:
    """The values that point the chart at the built image."""
    return {
        "image": {
            "repository": "/".join(p for p in (image.registry, image.repository) if p),
            "tag": image.tag,
            "digest": image.digest or "",
        }
    }


def upgrade(
    kube: Kube, opts: Options, values_files: Sequence[Path], *, flag: str
) -> dict[str, Any]:
    """``helm upgrade --install --wait`` + rollback on failure; returns the new status."""
    before = release_status(kube, opts.release, opts.namespace)
    done = kube.helm_cmd(
        "upgrade",
        "--install",
        opts.release,
        str(helm.CHART_DIR),
        "--namespace",
        opts.namespace,
        *helm.values_args(values_files, opts.sets),
        "--wait",
        flag,
        "--timeout",
        f"{opts.timeout}s",
        "--history-max",
        "10",
        what="helm upgrade",
        timeout=opts.timeout * 2 + 60,
        check=False,
    )
    if done.returncode == 0:
        after = release_status(kube, opts.release, opts.namespace)
        if after is None:
            raise PlatformError(
                "helm upgrade succeeded but the release has no status", log=str(kube.log)
            )
        return after
    why = helm.helm_failure(done.stdout, done.stderr)
    after = release_status(kube, opts.release, opts.namespace)
    pods = (
        f"kubectl -n {opts.namespace} get pods -l app.kubernetes.io/instance={opts.release}; "
        f"kubectl -n {opts.namespace} describe pods -l app.kubernetes.io/instance="
        f"{opts.release}"
    )
    if before is None:
        raise PlatformError(
            f"the first install failed ({why}) and was removed",
            hint=f"see why the pods did not become Ready: {pods}",
            log=str(kube.log),
        )
    if after is None:
        raise PlatformError(
            f"the upgrade failed ({why}), and the release's state could not be read afterwards",
            hint=f"check that the cluster is reachable, then: helm history {opts.release} "
            f"-n {opts.namespace}",
            log=str(kube.log),
        )
    if after["info"]["status"] == "deployed" and after["version"] > before["version"]:
        raise PlatformError(
            f"the release failed ({why}) and was rolled back: revision {after['version']} "
            f"({after['info']['status']}) keeps serving",
            hint=f"see why the new pods did not become Ready: {pods}",
            log=str(kube.log),
        )
    raise PlatformError(
        f"the upgrade failed ({why}); the release is at revision {after['version']} "
        f"({after['info']['status']})",
        hint=f"helm history {opts.release} -n {opts.namespace}; {pods}",
        log=str(kube.log),
    )


def run_tests(kube: Kube, opts: Options) -> None:
    """``helm test``: the chart's test pod must succeed (a failed one is kept: its log is shown).

    No ``--logs``: the test pod is deleted once it succeeds, and helm then fails to fetch them.
    """
    done = kube.helm_cmd(
        "test",
        opts.release,
        "--namespace",
        opts.namespace,
        "--timeout",
        "120s",
        what="helm test",
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pod = f"{_fullname(opts.release)}-test-http"
        logs = kube.kubectl_cmd(
            "logs",
            pod,
            "--namespace",
            opts.namespace,
            "--tail",
            "5",
            what="kubectl logs",
            check=False,
        ).stdout.strip()
        raise PlatformError(
            f"helm test failed: {helm.helm_failure(done.stdout, done.stderr)}"
            + (f" (test pod log: {' | '.join(logs.splitlines())})" if logs else ""),
            hint=f"kubectl -n {opts.namespace} logs {pod} (a failed test pod is kept)",
            log=str(kube.log),
        )


def node_port(kube: Kube, opts: Options) -> int | None:
    """The Service's node port, or None when it is not a NodePort Service."""
    done = kube.kubectl_cmd(
        "get",
        "service",
        _fullname(opts.release),
        "--namespace",
        opts.namespace,
        "--output",
        "json",
        what="kubectl get service",
    )
    svc = json.loads(done.stdout)
    if svc["spec"].get("type") not in ("NodePort", "LoadBalancer"):
        return None
    port = svc["spec"]["ports"][0].get("nodePort")
    return int(port) if port else None


def _fullname(release: str) -> str:
    return release if "hello" in release else f"{release}-hello"


HttpGet = Callable[[str], tuple[int, bytes]]


def http_get(url: str) -> tuple[int, bytes]:
    """GET ``url`` (loopback only); (status, body), status 0 when nothing answered."""
    if not url.startswith(("http://127.", "http://localhost")):
        raise PlatformError(f"smoke requests go to this machine only, not {url}")
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback http
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def smoke(
    base: str,
    *,
    revision: str | None,
    get: HttpGet = http_get,
    attempts: int = 20,
    pause: float = 0.5,
) -> dict[str, Any]:
    """``GET /`` and ``GET /version`` must answer 200; /version must name ``revision``."""
    last = ""
    for attempt in range(attempts):
        status, _ = get(base + "/")
        if status == 200:
            v_status, v_body = get(base + "/version")
            if v_status == 200:
                info: dict[str, Any] = json.loads(v_body)
                if revision is None or info.get("revision") == revision:
                    return info
                last = f"/version says revision {info.get('revision')}, expected {revision}"
            else:
                last = f"/version answered {v_status}"
        else:
            last = f"/ answered {status or 'nothing'}"
        if attempt + 1 < attempts:
            time.sleep(pause)
    raise PlatformError(
        f"the smoke request to {base} failed: {last}",
        hint="check the pods and the Service's node port",
    )


# ------------------------------------------------------------------------ the deploy


@dataclass(frozen=True)
class GivenImage:
    """An image named by ``--image`` (already pushed somewhere the cluster can pull from);
    its whole repository, registry host included, is kept in ``repository``."""

    registry: str
    repository: str
    tag: str
    digest: str | None

    @property
    def ref(self) -> str:
        return "/".join(p for p in (self.registry, self.repository) if p) + f":{self.tag}"

    @classmethod
    def parse(cls, text: str) -> GivenImage:
        m = _IMAGE_REF.fullmatch(text)
        if not m:
            raise PlatformError(f"--image {text} is not of the form REPOSITORY:TAG[@DIGEST]")
        return cls("", m["repo"], m["tag"], m["digest"])


@dataclass(frozen=True)
class Result:
    """What one deploy did."""

    release: str
    namespace: str
    revision: int
    image: str
    url: str | None
    version: dict[str, Any]
    seconds: dict[str, float]
    #: How to reach the cluster again: its kubeconfig and the pinned kubectl and helm.
    kubeconfig: Path
    kubectl: Path
    helm: Path


@dataclass
class Deps:
    """The deploy's collaborators (swapped out by unit tests)."""

    resolve: Callable[[str], Path]
    ensure_cluster: Callable[[], Path]
    build_image: Callable[[], Image]
    #: The git revision baked into the image (what /version must answer), or None.
    expected_revision: Callable[[Image], str | None]
    get: HttpGet = http_get


def default_deps() -> Deps:
    def resolve(name: str) -> Path:
        from hello_platform.toolchain import resolve as _resolve

        return _resolve(name)

    def ensure_cluster() -> Path:
        from hello_platform.substrate.cluster import ensure_up

        return ensure_up()

    def build_image() -> Image:
        from hello_platform.pipeline import image

        return image.build(push=True)

    def expected_revision(image: Image) -> str | None:
        # The image's own OCI label: HEAD may have moved on since the build.
        done = subprocess.run(
            [
                "docker", "image", "inspect", "--format",
                '{{ index .Config.Labels "org.opencontainers.image.revision" }}', image.ref,
            ],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        revision = done.stdout.strip()
        return revision if done.returncode == 0 and revision not in ("", "unknown") else None

    return Deps(resolve, ensure_cluster, build_image, expected_revision)


def deploy(opts: Options, deps: Deps | None = None) -> Result:
    """Run the whole deploy (see the module doc); raise PlatformError on any failure."""
    deps = deps or default_deps()
    seconds: dict[str, float] = {}
    started = time.monotonic()

    def lap(name: str, since: float) -> float:
        now = time.monotonic()
        seconds[name] = round(now - since, 1)
        return now

    t = time.monotonic()
    helm_bin = deps.resolve("helm")
    kubectl_bin = deps.resolve("kubectl")
    files = [*helm.profile_files(opts.profile), *opts.values]
    with step(
        f"checking the values (profile {opts.profile}, {len(opts.values)} file(s), "
        f"{len(opts.sets)} --set)"
    ):
        try:
            helm.render(
                helm_bin,
                values_files=files,
                sets=opts.sets,
                set_strings={"image.tag": "preflight"},
                release=opts.release,
                namespace=opts.namespace,
            )
        except PlatformError as err:
            raise PlatformError(
                "the values were rejected, so nothing was built or deployed: "
                + err.message.removeprefix("rendering the chart failed: "),
                hint="fix the values file or --set item it names",
            ) from err
    t = lap("tools+preflight", t)

    if opts.kubeconfig is None:
        with step("the embedded cluster"):
            kubeconfig = deps.ensure_cluster()
    else:
        kubeconfig = opts.kubeconfig
    kube = Kube(helm_bin, kubectl_bin, kubeconfig, opts.context)
    try:
        kube.kubectl_cmd("version", "--output", "json", what="reaching the cluster", timeout=30)
    except PlatformError as err:
        raise PlatformError(
            f"the cluster of {kubeconfig} could not be reached ({err.message})",
            hint="check that it is running and that --kubeconfig/--context name it, "
            "or omit --kubeconfig to deploy to the embedded local cluster",
            log=err.log,
        ) from err
    t = lap("cluster", t)

    image: Image
    if opts.image:
        image = GivenImage.parse(opts.image)
        say(f"releasing the given image (nothing is built): {opts.image}")
    else:
        with step("building and pushing the image"):
            image = deps.build_image()
    say(f"image {image.ref}" + (f"@{image.digest}" if image.digest else ""))
    t = lap("image", t)

    with step(f"namespace {opts.namespace} (Pod Security: restricted)"):
        ensure_namespace(kube, opts.namespace)
    out = paths.out_dir() / "deploy"
    out.mkdir(parents=True, exist_ok=True)
    image_file = out / "image-values.json"  # JSON is YAML; user values come after it
    image_file.write_text(json.dumps(image_values(image), indent=2) + "\n")
    release_files = [*helm.profile_files(opts.profile), image_file, *opts.values]
    flag = rollback_flag(helm_bin)
    with step(f"helm upgrade --install {opts.release} (--wait {flag}, timeout {opts.timeout}s)"):
        status = upgrade(kube, opts, release_files, flag=flag)
    revision = int(status["version"])
    say(f"release {opts.release} revision {revision}: {status['info']['status']}")
    t = lap("rollout", t)

    if opts.run_tests:
        with step(f"helm test {opts.release}"):
            run_tests(kube, opts)
        t = lap("helm test", t)

    # Only the embedded cluster's node is this machine: its node port is on 127.0.0.1.
    port = node_port(kube, opts) if opts.kubeconfig is None else None
    url = f"http://127.0.0.1:{port}" if port else None
    version: dict[str, Any] = {}
    if url:
        with step(f"smoke: GET {url}/ and {url}/version"):
            expected = None if opts.image else deps.expected_revision(image)
            version = smoke(url, revision=expected, get=deps.get)
        say(f"serving version {version.get('version')} revision {version.get('revision')}")
        lap("smoke", t)
    seconds["total"] = round(time.monotonic() - started, 1)
    return Result(
        opts.release,
        opts.namespace,
        revision,
        image.ref,
        url,
        version,
        seconds,
        kubeconfig=kubeconfig,
        kubectl=kubectl_bin,
        helm=helm_bin,
    )


def how_to_reach(result: Result, opts: Options) -> str:
    """The lines printed at the end: the URL and how to reach the service from here.

    The commands name the kubeconfig and the pinned kubectl/helm, so they work as printed.
    """
    kc = f"KUBECONFIG={result.kubeconfig} "
    lines = [
        f"deployed {result.image} as {result.release} revision {result.revision} "
        f"in namespace {result.namespace} "
        f"({', '.join(f'{k} {v:.1f}s' for k, v in result.seconds.items())})"
    ]
    if result.url:
        lines.append(f"URL: {result.url}/   (try: curl {result.url}/version)")
    lines.append(
        f"port-forward: {kc}{result.kubectl} -n {result.namespace} port-forward "
        f"svc/{_fullname(result.release)} 8080:80   then curl http://127.0.0.1:8080/"
    )
    lines.append(f"status: {kc}{result.helm} status {result.release} -n {result.namespace}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="deploy to this cluster instead of the embedded one")
    parser.add_argument("--context", help="kubeconfig context (with --kubeconfig)")
    parser.add_argument(
        "--profile",
        choices=list(helm.PROFILES),
        default="local",
        help="values profile (default: local)",
    )
    parser.add_argument(
        "--values",
        "-f",
        action="append",
        default=[],
        help="extra values file, applied after the profile (repeatable)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        dest="sets",
        help="key=value, applied last (repeatable)",
    )
    parser.add_argument(
        "--namespace",
        "-n",
        default=DEFAULT_NAMESPACE,
        help=f"namespace (default: {DEFAULT_NAMESPACE})",
    )
    parser.add_argument(
        "--release", default=helm.RELEASE, help=f"release name (default: {helm.RELEASE})"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        help=f"seconds the rollout may take (default: {DEFAULT_TIMEOUT})",
    )
    parser.add_argument(
        "--image",
        help="release this pushed image (REPO:TAG[@DIGEST]) instead of building one",
    )
    parser.add_argument("--no-test", action="store_true", help="skip helm test")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "deploy",
        help="build, push and helm-release the service, then test it",
        description=__doc__,
        usage="hello-platform deploy " + USAGE.removeprefix("usage: nox -s deploy -- "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    opts = options(args)
    result = deploy(opts)
    summary = paths.out_dir() / "deploy" / "last.json"
    summary.write_text(
        json.dumps(
            {
                "release": result.release,
                "namespace": result.namespace,
                "revision": result.revision,
                "image": result.image,
                "url": result.url,
                "version": result.version,
                "seconds": result.seconds,
            },
            indent=2,
        )
        + "\n"
    )
    print(how_to_reach(result, opts))
    return 0
