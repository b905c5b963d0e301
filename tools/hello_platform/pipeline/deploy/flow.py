"""The whole deploy, step by step (see the package doc), its smoke check, and what it prints
at the end."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hello_platform.clients import kube as client
from hello_platform.clients import oci
from hello_platform.core import paths
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.pipeline import helm
from hello_platform.pipeline.deploy.inputs import GivenImage, Image, Options
from hello_platform.pipeline.deploy.release import (
    Kube,
    apply_pull_secret,
    image_values,
    node_port,
    release_objects,
    rollback,
    run_tests,
    upgrade,
)
from hello_platform.pipeline.rollouts.watch import restore_replicas, settle

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


@dataclass(frozen=True)
class Result:
    release: str
    namespace: str
    service: str  # the release's front Service, as installed
    revision: int
    image: str
    url: str | None
    version: dict[str, Any]
    seconds: dict[str, float]
    kubeconfig: Path
    kubectl: Path
    helm: Path


@dataclass
class Deps:
    """The deploy's collaborators (swapped out by unit tests)."""

    resolve: Callable[[str], Path]
    ensure_cluster: Callable[[], Path]
    build_image: Callable[[Service, oci.Registry | None], Image]
    #: The git revision baked into the image (what /version must answer), or None.
    expected_revision: Callable[[Image], str | None]
    get: HttpGet = http_get
    api: Callable[[Path, str | None], client.Kube] = client.Kube


def default_deps() -> Deps:
    from hello_platform.pipeline.image import build
    from hello_platform.substrate.cluster import ensure_up
    from hello_platform.toolchain import resolve

    def build_image(service: Service, registry: oci.Registry | None) -> Image:
        return build(service, push=True, target=registry)

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

    return Deps(resolve, ensure_up, build_image, expected_revision)


class Laps:
    """Seconds per step: ``lap(name)`` closes the step that began at the last lap."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self.last, 1)
        self.last = now

    def total(self) -> dict[str, float]:
        return {**self.seconds, "total": round(time.monotonic() - self.started, 1)}


def check_values(helm_bin: Path, opts: Options) -> None:
    """Render the chart with every values file and ``--set``: a typo fails before any build."""
    files = [*helm.profile_files(opts.service, opts.profile), *opts.values]
    with step(
        f"checking the values (profile {opts.profile}, {len(opts.values)} file(s), "
        f"{len(opts.sets)} --set)"
    ):
        try:
            helm.render(
                helm_bin,
                opts.service,
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


def connect(kube: Kube) -> None:
    try:
        kube.api.version()
    except PlatformError as err:
        raise PlatformError(
            f"the cluster of {kube.kubeconfig} could not be reached ({err.message})",
            hint="check that it is running and that --kubeconfig/--context name it, "
            "or omit --kubeconfig to deploy to the embedded local cluster",
            log=err.log,
        ) from err


def the_image(opts: Options, deps: Deps) -> Image:
    image: Image
    if opts.image:
        image = GivenImage.parse(opts.image)
        say(f"releasing the given image (nothing is built): {opts.image}")
    else:
        with step(f"building and pushing the image of service '{opts.service.name}'"):
            image = deps.build_image(opts.service, opts.registry)
    say(f"image {image.ref}" + (f"@{image.digest}" if image.digest else ""))
    return image


def install_release(kube: Kube, opts: Options, image: Image) -> int:
    """The namespace, then ``helm upgrade --install`` of ``image``; the new revision."""
    with step(f"namespace {opts.namespace} (Pod Security: restricted)"):
        kube.api.ensure_namespace(opts.namespace)
    values = image_values(image)
    if opts.pull_secret and opts.registry and (login := opts.registry.credentials):
        address = opts.registry.address
        with step(f"pull Secret {opts.pull_secret} for {address}"):
            apply_pull_secret(kube.api, opts.namespace, opts.pull_secret, address, login)
        values["imagePullSecrets"] = [{"name": opts.pull_secret}]
    out = paths.out_dir() / "deploy"
    out.mkdir(parents=True, exist_ok=True)
    image_file = out / "image-values.json"  # JSON is YAML; user values come after it
    image_file.write_text(json.dumps(values, indent=2) + "\n")
    release_files = [*helm.profile_files(opts.service, opts.profile), image_file, *opts.values]
    flag = kube.helm_client.rollback_flag()
    with step(f"helm upgrade --install {opts.release} (--wait {flag}, timeout {opts.timeout}s)"):
        status = upgrade(kube, opts, release_files, flag=flag)
    revision = int(status["version"])
    say(f"release {opts.release} revision {revision}: {status['info']['status']}")
    return revision


def deploy(opts: Options, deps: Deps | None = None) -> Result:
    deps = deps or default_deps()
    laps = Laps()
    helm_bin, kubectl_bin = deps.resolve("helm"), deps.resolve("kubectl")
    check_values(helm_bin, opts)
    laps.lap("tools+preflight")
    if opts.kubeconfig is None:
        with step("the embedded cluster"):
            kubeconfig = deps.ensure_cluster()
    else:
        kubeconfig = opts.kubeconfig
    kube = Kube(
        helm_bin, kubectl_bin, kubeconfig, opts.context, api=deps.api(kubeconfig, opts.context)
    )
    connect(kube)
    laps.lap("cluster")
    image = the_image(opts, deps)
    laps.lap("image")
    revision = install_release(kube, opts, image)
    laps.lap("rollout")
    objects = release_objects(kube, opts)
    for drifted in restore_replicas(kube.api, objects, opts.namespace):
        say(f"rollout {drifted}: replicas set back to the chart's count")
    for name in helm.named(objects, "Rollout"):  # canary or blueGreen: promoted, or rolled back
        with step(f"rollout {name}: steps and analysis until promoted or aborted"):
            settle(kube.api, name, opts.namespace, rollback=lambda: rollback(kube, opts, revision))
        laps.lap("promotion")
    if opts.run_tests:
        with step(f"helm test {opts.release}"):
            run_tests(kube, opts)
        laps.lap("helm test")
    service = helm.front_service(release_objects(kube, opts), opts.release)
    # Only the embedded cluster's node is this machine: its node port is on 127.0.0.1.
    port = node_port(kube, opts, service) if opts.kubeconfig is None else None
    url = f"http://127.0.0.1:{port}" if port else None
    version: dict[str, Any] = {}
    if url:
        with step(f"smoke: GET {url}/ and {url}/version"):
            expected = None if opts.image else deps.expected_revision(image)
            version = smoke(url, revision=expected, get=deps.get)
        say(f"serving version {version.get('version')} revision {version.get('revision')}")
        laps.lap("smoke")
    return Result(
        opts.release,
        opts.namespace,
        service,
        revision,
        image.ref,
        url,
        version,
        laps.total(),
        kubeconfig=kubeconfig,
        kubectl=kubectl_bin,
        helm=helm_bin,
    )


def how_to_reach(result: Result, opts: Options) -> str:
    """The lines printed at the end: commands that name the kubeconfig and the pinned
    kubectl/helm, so they work as printed."""
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
        f"svc/{result.service} 8080:80   then curl http://127.0.0.1:8080/"
    )
    lines.append(f"status: {kc}{result.helm} status {result.release} -n {result.namespace}")
    return "\n".join(lines)


def write_summary(result: Result) -> Path:
    """``out/deploy/last.json``: what the deploy did, for scripts and CI."""
    summary = paths.out_dir() / "deploy" / "last.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    fields = ("release", "namespace", "service", "revision", "image", "url", "version", "seconds")
    summary.write_text(json.dumps({f: getattr(result, f) for f in fields}, indent=2) + "\n")
    return summary
