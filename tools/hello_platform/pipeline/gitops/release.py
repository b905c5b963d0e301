"""A release is one commit of ``envs/<env>/image.yaml`` on the environment branch (its
``git log`` is the release history; ``git revert`` is a rollback)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hello_platform.core import catalogue, paths
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.pipeline.deploy import http_get
from hello_platform.pipeline.deploy.inputs import Image
from hello_platform.pipeline.gitops import envs, gitserver

NODE_PORTS = {"local": 30081}
APPS_DIR = envs.LOCAL_APPS


@dataclass(frozen=True)
class EnvApp:
    name: str
    chart: str  # relative to the repository
    branch: str
    namespace: str


def env_apps(root: Path = paths.REPO_ROOT) -> list[EnvApp]:
    found = []
    for path in sorted((root / APPS_DIR).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            spec = (doc or {}).get("spec") or {}
            source, dest = spec.get("source") or {}, spec.get("destination") or {}
            found.append(
                EnvApp(
                    doc["metadata"]["name"],
                    str(source.get("path", "")),
                    str(source.get("targetRevision", "")),
                    str(dest.get("namespace", "")),
                )
            )
    return found


def env_app(env: str, root: Path = paths.REPO_ROOT) -> EnvApp:
    found = [a for a in env_apps(root) if a.branch == gitserver.env_branch(env)]
    if len(found) != 1:
        raise PlatformError(
            f"{len(found)} Argo CD Applications in {APPS_DIR} deploy environment '{env}', not one"
        )
    return found[0]


def env_service(env: str, name: str | None = None, root: Path = paths.REPO_ROOT) -> Service:
    """The service whose chart the environment's app deploys (``name`` must be it)."""
    app = env_app(env, root)
    cat = catalogue.load(root)
    chosen = [s for s in cat.services.values() if s.chart == root / app.chart]
    if name is not None:
        chosen = [s for s in chosen if s.name == cat.service(name).name]
    if len(chosen) != 1:
        which = f"service '{name}'" if name else f"exactly one service of {catalogue.CATALOGUE}"
        raise PlatformError(
            f"environment '{env}' deploys the chart {app.chart} (Application {app.name}), "
            f"which is not the chart of {which}",
            hint=f"pass --service, or add an Application for the service to {APPS_DIR}",
        )
    return chosen[0]


def image_file(env: str) -> str:
    return f"{envs.ENVS_DIR}/{env}/image.yaml"


def image_yaml(
    image: Image, faults: Mapping[str, Any] | None = None, *, writer: str = "`nox -s release`"
) -> str:
    if not image.digest:
        raise PlatformError(f"the image {image.repository}:{image.tag} was not pushed (no digest)")
    values: dict[str, Any] = {
        "image": {
            "repository": f"{image.registry}/{image.repository}",
            "tag": image.tag,
            "digest": image.digest,
        }
    }
    if faults:
        values["faults"] = dict(faults)
    header = f"# Written by {writer} on the environment branch; each release is one commit.\n"
    return header + str(yaml.safe_dump(values, sort_keys=False))


def fault_values(service: Service, pairs: Sequence[str]) -> dict[str, Any]:
    """``--fault NAME=VALUE`` pairs as the chart's declared ``faults`` values."""
    chart = yaml.safe_load((service.chart / "values.yaml").read_text()) or {}
    known = sorted((chart.get("faults") or {}).keys())
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in known:
            raise PlatformError(
                f"--fault {pair} is not NAME=VALUE with NAME one of {', '.join(known)}",
                hint=f"the faults are documented in {service.chart / 'values.yaml'}",
            )
        out[name] = yaml.safe_load(value)
    return out


def current_image(text: str | None) -> dict[str, Any]:
    data = yaml.safe_load(text or "") or {}
    image = data.get("image") if isinstance(data, dict) else None
    return image if isinstance(image, dict) else {}


def commit_image(
    env: str, image: Image, *, url: str | None = None, faults: Mapping[str, Any] | None = None
) -> str:
    drill = f"faults {json.dumps(dict(faults), sort_keys=True)}\n" if faults else ""
    return gitserver.commit_files(
        gitserver.env_branch(env),
        {image_file(env): image_yaml(image, faults)},
        f"release({env}): {image.repository} {image.tag}\n\n"
        f"image {image.registry}/{image.repository}:{image.tag}@{image.digest}\n{drill}",
        url=url,
    )


def wait_serving(
    url: str,
    revision: str,
    *,
    timeout: float,
    get: Callable[[str], tuple[int, bytes]] = http_get,
    poll: float = 0.25,
    stable: float = 3.0,
    clock: Callable[[], float] = time.monotonic,
) -> float:
    """Seconds until ``url`` serves only ``revision`` (``/version`` names it, ``/`` is 200)
    for ``stable`` seconds in a row: mid-rollout the old pod still answers some requests."""
    start = clock()
    last_beat = start
    seen = "nothing yet"
    streak: float | None = None
    while (now := clock()) - start < timeout:
        status, body = get(url + "/version")
        ok = False
        if status == 200:
            info: Mapping[str, Any] = json.loads(body)
            seen = str(info.get("revision"))
            ok = seen == revision and get(url + "/")[0] == 200
        if not ok:
            streak = None
        elif streak is None:
            streak = now
        elif now - streak >= stable:
            return streak - start
        if now - last_beat >= 10:
            last_beat = now
            say(f"waiting for the new revision to serve: {now - start:.0f}s, serving {seen}")
        time.sleep(poll)
    raise PlatformError(
        f"{url} did not serve only revision {revision} within {timeout:.0f}s (it serves {seen})",
        hint="run `nox -s gitops -- status` to see what Argo CD says",
    )
