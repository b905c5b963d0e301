"""Images the cluster needs, built here (nothing can be pulled) and pushed to the local
registry as single-layer ``FROM scratch`` OCI images assembled in Python.

No Docker engine is needed: the layer is a deterministic tar (mtime 0, root-owned),
gzipped with mtime 0, so the same binary always gives the same digest. The tag is
derived from the content, so a build is skipped when the registry already has it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hello_platform import registry
from hello_platform.cluster import binaries
from hello_platform.errors import PlatformError
from hello_platform.paths import REPO_ROOT, cache_dir
from hello_platform.proc import run
from hello_platform.progress import say

IMAGES_DIR = REPO_ROOT / "deploy" / "cluster" / "images"
PAUSE_SOURCE = IMAGES_DIR / "pause" / "pause.c"
ECHO_SOURCE = IMAGES_DIR / "echo" / "main.go"
#: The user every image runs as (distroless' "nonroot").
NONROOT = "65532:65532"
REPO_PREFIX = "hello-platform"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"


@dataclass(frozen=True)
class ImageSpec:
    """One FROM-scratch image: where its one binary comes from and how it runs."""

    name: str
    binary: Callable[[], Path]
    entrypoint: tuple[str, ...]
    user: str = NONROOT
    ports: tuple[str, ...] = ()

    @property
    def repo(self) -> str:
        return f"{REPO_PREFIX}/{self.name}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _built(name: str, source: Path, build: Callable[[Path], None]) -> Path:
    """A binary built from ``source`` by ``build(out)``, cached by the source's hash."""
    out = cache_dir() / "cluster-images" / name / _sha(source.read_bytes())[:16] / name
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        build(tmp)
        tmp.replace(out)
    return out


def pause_binary() -> Path:
    """The pause program: pause.c compiled with ``gcc -static``."""

    def build(out: Path) -> None:
        run(
            ["gcc", "-static", "-O2", "-Wall", "-o", out, PAUSE_SOURCE],
            what="compiling the pause program",
            hint="install gcc and libc6-dev",
        )
        run(["strip", out], what="stripping the pause program")

    return _built("pause", PAUSE_SOURCE, build)


def echo_binary() -> Path:
    """The e2e tests' echo server: a static Go binary."""

    def build(out: Path) -> None:
        from hello_platform.toolchain.gobuild import find_go

        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-trimpath"}
        go = find_go() or "go"
        run(
            [go, "build", "-ldflags=-s -w", "-o", out, ECHO_SOURCE],
            what="building the echo test server",
            env=env,
            cwd=ECHO_SOURCE.parent,
            hint="install Go and put it on PATH",
        )

    return _built("echo", ECHO_SOURCE, build)


PAUSE = ImageSpec("pause", pause_binary, ("/pause",), user="65535:65535")
COREDNS = ImageSpec(
    "coredns", lambda: binaries.tool("coredns"), ("/coredns",), ports=("1053/udp", "1053/tcp")
)
METRICS_SERVER = ImageSpec(
    "metrics-server",
    lambda: binaries.tool("metrics-server"),
    ("/metrics-server",),
    ports=("10250/tcp",),
)
ECHO = ImageSpec("echo", echo_binary, ("/echo",), ports=("8080/tcp",))
#: The images ``cluster up`` needs.
CLUSTER_IMAGES = (PAUSE, COREDNS, METRICS_SERVER)


def layer_tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A reproducible tar of ``{path: (content, mode)}`` plus a world-writable /tmp."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tmp = tarfile.TarInfo("tmp")
        tmp.type, tmp.mode, tmp.mtime = tarfile.DIRTYPE, 0o1777, 0
        tar.addfile(tmp)
        for path, (content, mode) in sorted(files.items()):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(content), mode, 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def image_blobs(spec: ImageSpec, binary: bytes) -> tuple[bytes, bytes, bytes]:
    """(compressed layer, config JSON, manifest JSON) of ``spec`` holding ``binary``."""
    tar = layer_tar({spec.entrypoint[0]: (binary, 0o755)})
    layer = gzip.compress(tar, compresslevel=6, mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Entrypoint": list(spec.entrypoint),
                "User": spec.user,
                "WorkingDir": "/",
                "Env": ["PATH=/"],
                "ExposedPorts": {p: {} for p in spec.ports},
                "Labels": {"org.opencontainers.image.source": "hello-platform"},
            },
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + _sha(tar)]},
            "history": [{"created_by": f"hello-platform: COPY {spec.name} {spec.entrypoint[0]}"}],
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": registry.OCI_MANIFEST,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": "sha256:" + _sha(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": LAYER_MEDIA_TYPE,
                    "digest": "sha256:" + _sha(layer),
                    "size": len(layer),
                }
            ],
        },
        sort_keys=True,
    ).encode()
    return layer, config, manifest


def tag_for(binary: Path) -> str:
    """The image tag: a digest of the binary, so a new binary is a new tag."""
    digest = hashlib.sha256()
    with binary.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return "sha-" + digest.hexdigest()[:16]


def reference(spec: ImageSpec, tag: str) -> str:
    return f"{registry.ADDRESS}/{spec.repo}:{tag}"


def ensure_image(spec: ImageSpec) -> str:
    """Build and push ``spec`` unless the registry has it; return ``REPO:TAG@DIGEST``.

    The cluster pulls add-ons by digest: a tag in a registry anyone on this host can
    push to may be moved, a digest may not. The layer is reproducible (mtime 0, fixed
    owner and order), so the same binary always gives the same digest.
    """
    binary = spec.binary()
    if not binary.exists():
        raise PlatformError(f"the {spec.name} binary is missing at {binary}")
    tag = tag_for(binary)
    ref = reference(spec, tag)
    # The digest of a binary's image, remembered: compressing a big binary costs seconds.
    memo = cache_dir() / "cluster-images" / "digests" / f"{spec.name}-{tag}"
    known = memo.read_text().strip() if memo.exists() else None
    if known and registry.manifest_digest(spec.repo, tag) == known:
        return f"{ref}@{known}"
    layer, config, manifest = image_blobs(spec, binary.read_bytes())
    digest = registry.digest_of(manifest)
    if registry.manifest_digest(spec.repo, tag) != digest:
        say(f"building image {ref}")
        registry.push_blob(spec.repo, layer)
        registry.push_blob(spec.repo, config)
        registry.push_manifest(spec.repo, tag, manifest)
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(digest + "\n")
    return f"{ref}@{digest}"
