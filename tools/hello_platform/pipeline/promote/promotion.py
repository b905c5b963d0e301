"""The digest that passed in one environment (``environments.toml``), copied by digest into
the next one's registry when it is another, and committed to its ``image.yaml``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hello_platform.clients import oci, ocicopy
from hello_platform.clients.kube import Kube
from hello_platform.core import catalogue, paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import notify
from hello_platform.pipeline.gitops import envs, gitserver, lifecycle, outcome, records, release
from hello_platform.pipeline.notify import Announcer

ENVIRONMENTS = "deploy/argocd/environments.toml"


@dataclass(frozen=True)
class Environment:
    name: str
    registry: str
    branch: str
    app: str = ""

    @property
    def image_file(self) -> str:
        return release.image_file(self.name)


def environments(root: Path = paths.REPO_ROOT) -> dict[str, Environment]:
    return envs.load_table(root, ENVIRONMENTS, "environments", Environment)


def pair(source: str, target: str, root: Path = paths.REPO_ROOT) -> tuple[Environment, Environment]:
    known = environments(root)
    for name in (source, target):
        if name not in known:
            raise PlatformError(
                f"unknown environment '{name}' (declared in {ENVIRONMENTS}: {', '.join(known)})"
            )
    if source == target:
        raise PlatformError(f"--from and --to are both '{source}': promote into another one")
    return known[source], known[target]


@dataclass(frozen=True)
class Image:
    registry: str
    repository: str
    tag: str
    digest: str

    @property
    def ref(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}@{self.digest}"


def image_at(env: Environment, commit: str, *, url: str | None = None) -> Image:
    with gitserver.checkout(env.branch, url, bare=True) as work:
        what = f"reading {env.image_file} at {commit[:12]}"
        text = gitserver.git("show", f"{commit}:{env.image_file}", cwd=work, what=what)
    found = release.current_image(text)
    ref, tag, digest = (str(found.get(k) or "") for k in ("repository", "tag", "digest"))
    if not (ref and tag and digest):
        raise PlatformError(f"{env.image_file} at {commit[:12]} names no image with a digest")
    host, _, repository = ref.partition("/")
    return Image(host, repository, tag, digest)


def current_digest(env: Environment, *, url: str | None = None) -> str:
    if gitserver.remote_ref(env.branch, url) is None:
        raise PlatformError(
            f"environment '{env.name}' has no branch {env.branch} in the GitOps repository "
            "(nothing was released there yet)"
        )
    text = gitserver.read_file(env.branch, env.image_file, url=url)
    digest = release.current_image(text).get("digest")
    if not digest:
        raise PlatformError(f"nothing was released in environment '{env.name}' yet")
    return str(digest)


def target_image(source: Image, src_env: Environment, dst_env: Environment) -> Image:
    _, src_ns = _split(src_env.registry)
    dst_host, dst_ns = _split(dst_env.registry)
    path = source.repository
    if src_ns and path.startswith(f"{src_ns}/"):
        path = path.removeprefix(f"{src_ns}/")
    repository = f"{dst_ns}/{path}" if dst_ns else path
    return Image(dst_host, repository, source.tag, source.digest)


def _split(registry: str) -> tuple[str, str]:
    host, _, namespace = registry.strip("/").partition("/")
    return host, namespace


@dataclass(frozen=True)
class Registries:
    source: Callable[[str], oci.Registry]
    target: oci.Registry


@dataclass
class Promotion:
    source_env: str
    target_env: str
    digest: str
    source_commit: str
    image: str
    commit: str = ""
    copied: ocicopy.Copied | None = None
    seconds: float = 0.0
    previous_digest: str | None = None
    committed_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "committed_at"}
        out["copied"] = self.copied.to_json() if self.copied else None
        return out


def promote(
    src_env: Environment,
    dst_env: Environment,
    registries: Registries,
    *,
    digest: str | None = None,
    url: str | None = None,
) -> Promotion:
    """Refuse ``digest`` (default: what ``src_env`` runs) unless it passed there, copy it
    into ``dst_env``'s registry if that is another one, and commit it to ``dst_env``."""
    start = time.monotonic()
    if gitserver.remote_ref(dst_env.branch, url) is None:
        raise PlatformError(
            f"the GitOps repository has no branch {dst_env.branch} for environment "
            f"'{dst_env.name}'",
            hint="create it from the source branch (the e2e does: git push URL main:BRANCH)",
        )
    wanted = digest or current_digest(src_env, url=url)
    passed = records.passed(src_env.name, wanted, url=url)
    source = image_at(src_env, passed.commit, url=url)
    if source.digest != wanted:
        raise PlatformError(f"the record of {wanted} points at a release of {source.digest}")
    target = target_image(source, src_env, dst_env)
    done = Promotion(src_env.name, dst_env.name, wanted, passed.commit, target.ref)
    if (source.registry, source.repository) != (target.registry, target.repository):
        done.copied = ocicopy.copy(
            ocicopy.Repo(oci.Client(registries.source(source.registry)), source.repository),
            ocicopy.Repo(oci.Client(registries.target), target.repository),
            wanted,
            target.tag,
        )
    before = gitserver.read_file(dst_env.branch, dst_env.image_file, url=url)
    done.previous_digest = release.current_image(before).get("digest")
    done.committed_at = time.monotonic()
    done.commit = commit(src_env, dst_env, source, target, passed.commit, url=url)
    done.seconds = round(time.monotonic() - start, 2)
    return done


def commit(
    src_env: Environment,
    dst_env: Environment,
    source: Image,
    target: Image,
    source_commit: str,
    *,
    url: str | None = None,
) -> str:
    message = (
        f"promote({dst_env.name}): {target.repository} {target.digest} from {src_env.name}\n\n"
        f"image {target.ref}\n"
        f"from {src_env.name}: {source.ref}\n"
        f"passed in {src_env.name} at {src_env.branch} {source_commit}\n"
    )
    text = release.image_yaml(target, writer="`nox -s release`/`promote`")
    return gitserver.commit_files(dst_env.branch, {dst_env.image_file: text}, message, url=url)


def app_of(env: Environment, root: Path = paths.REPO_ROOT) -> tuple[str, str, str]:
    """``env``'s Application, its service (by chart; else the app's name) and namespace."""
    if not env.app or not (root / env.app).is_file():
        raise PlatformError(
            f"environment '{env.name}' names no Application file to watch (app = '{env.app}')"
        )
    doc: dict[str, Any] = yaml.safe_load((root / env.app).read_text())
    name = str(doc["metadata"]["name"])
    charts = {root / s["path"] for s in envs.sources(doc) if "path" in s}
    found = [s.name for s in catalogue.load(root).services.values() if s.chart in charts]
    namespace = str(((doc.get("spec") or {}).get("destination") or {}).get("namespace", ""))
    return name, found[0] if len(found) == 1 else name, namespace


def own(
    env: Environment,
    done: Promotion,
    *,
    kubeconfig: str | None,
    timeout: float,
    url: str | None = None,
) -> outcome.Outcome:
    app, service, namespace = app_of(env)
    kube = Kube(lifecycle.cluster(kubeconfig, "promote"))
    announcer = Announcer(notify.webhook_url(None, kube=kube))
    target = outcome.Target(app, env.branch, done.commit, done.digest)
    rel = outcome.Release(
        service, env.name, target, done.previous_digest, done.committed_at, namespace
    )
    return outcome.own(kube, rel, announcer, timeout=timeout, url=url)
