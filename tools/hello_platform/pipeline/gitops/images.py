"""The Argo CD images built here: ``argocd`` (the one binary, which dispatches on argv[0]
so the components are symlinks to it, plus git, its libraries and helm; user 999; no
entrypoint: the pod specs name the program) and ``argocd-redis`` (miniredis)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from hello_platform.core.paths import REPO_ROOT, cache_dir
from hello_platform.core.proc import run
from hello_platform.substrate.cluster import binaries
from hello_platform.substrate.cluster.images import ImageSpec, shared_libraries

ARGOCD_USER = "999:999"
BIN = "/usr/local/bin"
#: The names upstream's Dockerfile links to the binary.
ARGOCD_NAMES = (
    "argocd-application-controller",
    "argocd-repo-server",
    "argocd-server",
    "argocd-cmp-server",
    "argocd-commit-server",
    "argocd-dex",
    "argocd-notifications",
    "argocd-applicationset-controller",
    "argocd-k8s-auth",
    "argocd-git-ask-pass",
)
GIT = Path("/usr/bin/git")
REDIS_SOURCE = REPO_ROOT / "deploy" / "argocd" / "images" / "redis"
PASSWD = (
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"  # noqa: S105 - /etc/passwd, no password
    "argocd:x:999:999::/home/argocd:/usr/sbin/nologin\n"
)
GROUP = "root:x:0:\nargocd:x:999:\n"


def _etc_files() -> dict[str, Path]:
    """/etc/passwd and /etc/group naming user 999 (git and ssh look the user up)."""
    where = cache_dir() / "cluster-images" / "argocd-etc"
    where.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, text in (("passwd", PASSWD), ("group", GROUP)):
        path = where / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        out[f"/etc/{name}"] = path
    return out


def argocd_extra() -> Mapping[str, Path]:
    files = {f"{BIN}/helm": binaries.tool("helm"), "/usr/bin/git": GIT}
    files.update(shared_libraries(GIT))
    files.update(_etc_files())
    return files


ARGOCD = ImageSpec(
    "argocd",
    lambda: binaries.tool("argocd"),
    (),
    user=ARGOCD_USER,
    binary_path=f"{BIN}/argocd",
    cmd=("argocd",),
    extra=argocd_extra,
    # git runs its helpers (index-pack, ...) as `git` from its exec path.
    symlinks=(
        *((f"{BIN}/{n}", "argocd") for n in ARGOCD_NAMES),
        ("/usr/lib/git-core/git", GIT.as_posix()),
    ),
    env=(f"PATH={BIN}:/usr/bin:/bin", "HOME=/home/argocd", "USER=argocd"),
)


def _source_key(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def redis_binary(source: Path = REDIS_SOURCE) -> Path:
    from hello_platform.toolchain.gobuild import find_go, go_env
    from hello_platform.toolchain.resolver import go_build_slot

    out = cache_dir() / "cluster-images" / "argocd-redis" / _source_key(source) / "redis"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with go_build_slot("argocd-redis"):
        run(
            [find_go() or "go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "."],
            what="building the miniredis server for Argo CD",
            env={**go_env(), "GOFLAGS": "-mod=readonly"},
            cwd=source,
            hint="install Go and put it on PATH",
        )
    tmp.replace(out)
    return out


REDIS = ImageSpec("argocd-redis", redis_binary, ("/redis",), user=ARGOCD_USER, ports=("6379/tcp",))
