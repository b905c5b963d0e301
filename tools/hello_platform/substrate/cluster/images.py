"""The cluster's images: reproducible single-layer ``FROM scratch`` OCI images (no Docker)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hello_platform.clients import oci
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT, cache_dir
from hello_platform.core.proc import run
from hello_platform.core.progress import say
from hello_platform.substrate import registry

IMAGES_DIR = REPO_ROOT / "deploy" / "cluster" / "images"
PAUSE_SOURCE = IMAGES_DIR / "pause" / "pause.c"
ECHO_SOURCE = IMAGES_DIR / "echo" / "main.go"
NONROOT = "65532:65532"
REPO_PREFIX = "hello-platform"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"


@dataclass(frozen=True)
class ImageSpec:
    """One image: its main binary (at ``binary_path`` or ``entrypoint[0]``), ``extra`` files
    (image path -> host file), ``symlinks`` (image path -> target) and run settings."""

    name: str
    binary: Callable[[], Path]
    entrypoint: tuple[str, ...]
    user: str = NONROOT
    ports: tuple[str, ...] = ()
    extra: Callable[[], Mapping[str, Path]] | None = None
    symlinks: tuple[tuple[str, str], ...] = ()
    env: tuple[str, ...] = ("PATH=/",)
    binary_path: str = ""
    cmd: tuple[str, ...] = ()

    @property
    def repo(self) -> str:
        return f"{REPO_PREFIX}/{self.name}"

    @property
    def path(self) -> str:
        return self.binary_path or self.entrypoint[0]


def _descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {"mediaType": media_type, "digest": oci.digest_of(data), "size": len(data)}


def _built(name: str, source: Path, build: Callable[[Path], None]) -> Path:
    version = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    out = cache_dir() / "cluster-images" / name / version / name
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        build(tmp)
        tmp.replace(out)
    return out


def pause_binary() -> Path:
    def build(out: Path) -> None:
        run(
            ["gcc", "-static", "-O2", "-Wall", "-o", out, PAUSE_SOURCE],
            what="compiling the pause program",
            hint="install gcc and libc6-dev",
        )
        run(["strip", out], what="stripping the pause program")

    return _built("pause", PAUSE_SOURCE, build)


def echo_binary() -> Path:
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
ECHO = ImageSpec("echo", echo_binary, ("/echo",), ports=("8080/tcp",))


def layer_tar(
    files: Mapping[str, tuple[bytes, int]], symlinks: Mapping[str, str] | None = None
) -> bytes:
    """A reproducible tar of ``{path: (content, mode)}``, symlinks and a world-writable /tmp."""
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
        for path, target in sorted((symlinks or {}).items()):
            link = tarfile.TarInfo(path.lstrip("/"))
            link.type, link.linkname, link.mode, link.mtime = tarfile.SYMTYPE, target, 0o777, 0
            tar.addfile(link)
    return buf.getvalue()


def image_files(spec: ImageSpec, binary: bytes) -> dict[str, tuple[bytes, int]]:
    files = {spec.path: (binary, 0o755)}
    for dest, src in (spec.extra() if spec.extra else {}).items():
        files[dest] = (src.read_bytes(), 0o755 if os.access(src, os.X_OK) else 0o644)
    return files


def image_blobs(spec: ImageSpec, binary: bytes) -> tuple[bytes, bytes, bytes]:
    tar = layer_tar(image_files(spec, binary), dict(spec.symlinks))
    layer = gzip.compress(tar, compresslevel=6, mtime=0)
    settings: dict[str, object] = {
        "User": spec.user,
        "WorkingDir": "/",
        "Env": list(spec.env),
        "ExposedPorts": {p: {} for p in spec.ports},
        "Labels": {"org.opencontainers.image.source": "hello-platform"},
    }
    if spec.entrypoint:
        settings["Entrypoint"] = list(spec.entrypoint)
    if spec.cmd:
        settings["Cmd"] = list(spec.cmd)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": settings,
            "rootfs": {"type": "layers", "diff_ids": [oci.digest_of(tar)]},
            "history": [{"created_by": f"hello-platform: COPY {spec.name} {spec.path}"}],
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": oci.OCI_MANIFEST,
            "config": _descriptor(CONFIG_MEDIA_TYPE, config),
            "layers": [_descriptor(LAYER_MEDIA_TYPE, layer)],
        },
        sort_keys=True,
    ).encode()
    return layer, config, manifest


def tag_for(binary: Path, spec: ImageSpec | None = None) -> str:
    """A digest of the binary (and of ``spec``'s other files, links and settings, if any)."""
    with binary.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
    if spec is not None and (spec.extra or spec.symlinks or spec.binary_path):
        extra = {k: str(v) for k, v in (spec.extra() if spec.extra else {}).items()}
        settings = [spec.path, spec.entrypoint, spec.cmd, spec.env, spec.user, spec.symlinks]
        digest.update(json.dumps([settings, sorted(extra.items())]).encode())
        for _, src in sorted(extra.items()):
            digest.update(Path(src).read_bytes())
    return "sha-" + digest.hexdigest()[:16]


def shared_libraries(binary: Path) -> dict[str, Path]:
    return parse_ldd(run(["ldd", binary], what=f"ldd {binary}", capture=True))


def parse_ldd(output: str) -> dict[str, Path]:
    libs: dict[str, Path] = {}
    for line in output.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            libs[parts[2]] = Path(parts[2]).resolve()
        elif parts and parts[0].startswith("/"):
            libs[parts[0]] = Path(parts[0]).resolve()
    return libs


def with_shared_libraries(binary: Callable[[], Path]) -> Callable[[], Mapping[str, Path]]:
    return lambda: shared_libraries(binary())


def reference(spec: ImageSpec, tag: str) -> str:
    return f"{registry.ADDRESS}/{spec.repo}:{tag}"


def ensure_image(spec: ImageSpec) -> str:
    """Build and push ``spec`` unless the registry has it; return ``REPO:TAG@DIGEST`` (a tag
    in a registry anyone here can push to may move, a digest may not)."""
    binary = spec.binary()
    if not binary.exists():
        raise PlatformError(f"the {spec.name} binary is missing at {binary}")
    tag = tag_for(binary, spec)
    ref = reference(spec, tag)
    # Remembered: compressing a big binary costs seconds.
    memo = cache_dir() / "cluster-images" / "digests" / f"{spec.name}-{tag}"
    known = memo.read_text().strip() if memo.exists() else None
    store = registry.client()
    if known and store.manifest_digest(spec.repo, tag) == known:
        return f"{ref}@{known}"
    layer, config, manifest = image_blobs(spec, binary.read_bytes())
    digest = oci.digest_of(manifest)
    if store.manifest_digest(spec.repo, tag) != digest:
        say(f"building image {ref}")
        store.push_blob(spec.repo, layer)
        store.push_blob(spec.repo, config)
        store.push_manifest(spec.repo, tag, manifest)
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(digest + "\n")
    return f"{ref}@{digest}"
