"""Image push through the registry HTTP API (against an in-process fake), docker.py guards."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.substrate import docker, registry
from hello_platform.substrate.cluster import addons, images


class FakeRegistry(BaseHTTPRequestHandler):
    """Just enough of the distribution API: blobs (monolithic upload) and manifests."""

    blobs: ClassVar[dict[str, bytes]] = {}
    manifests: ClassVar[dict[str, bytes]] = {}
    uploads = 0

    def _send(self, code: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._send(200 if self.path == "/v2/" else 404)

    def do_HEAD(self) -> None:
        m = re.match(r"/v2/(.+)/(blobs|manifests)/(.+)", self.path)
        if not m:
            return self._send(404)
        store = self.blobs if m[2] == "blobs" else self.manifests
        key = m[3] if m[2] == "blobs" else f"{m[1]}:{m[3]}"
        if key not in store:
            return self._send(404)
        digest = "sha256:" + hashlib.sha256(store[key]).hexdigest()
        return self._send(200, {"Docker-Content-Digest": digest})

    def do_POST(self) -> None:
        type(self).uploads += 1
        self._send(202, {"Location": f"/v2/upload/{self.uploads}?state=x"})

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.startswith("/v2/upload/"):
            digest = self.path.split("digest=")[1]
            assert digest == "sha256:" + hashlib.sha256(body).hexdigest()
            self.blobs[digest] = body
            return self._send(201)
        m = re.match(r"/v2/(.+)/manifests/(.+)", self.path)
        assert m
        self.manifests[f"{m[1]}:{m[2]}"] = body
        return self._send(201)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeRegistry]]:
    FakeRegistry.blobs, FakeRegistry.manifests, FakeRegistry.uploads = {}, {}, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(registry, "ADDRESS", f"127.0.0.1:{server.server_address[1]}")
    yield FakeRegistry
    server.shutdown()


@pytest.fixture
def tool_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> images.ImageSpec:
    """An image spec of a pretend binary, with a cache of its own."""
    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "cache"))
    binary = tmp_path / "tool"
    binary.write_bytes(b"\x7fELF pretend static binary")
    return images.ImageSpec("tool", lambda: binary, ("/tool",))


def test_ensure_image_pushes_once_then_reuses_the_tag_by_digest(
    fake_registry: type[FakeRegistry], tool_spec: images.ImageSpec
) -> None:
    spec = tool_spec
    ref = images.ensure_image(spec)
    tag = images.tag_for(spec.binary())
    manifest = fake_registry.manifests[f"hello-platform/tool:{tag}"]
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    assert ref == f"{registry.ADDRESS}/hello-platform/tool:{tag}@{digest}"
    assert len(fake_registry.blobs) == 2  # layer + config
    assert list(fake_registry.manifests) == [f"hello-platform/tool:{tag}"]
    uploads = fake_registry.uploads
    assert images.ensure_image(spec) == ref
    assert fake_registry.uploads == uploads  # cached: nothing uploaded again


def test_a_moved_tag_is_pushed_back_to_our_digest(
    fake_registry: type[FakeRegistry], tool_spec: images.ImageSpec
) -> None:
    spec = tool_spec
    ref = images.ensure_image(spec)
    key = f"hello-platform/tool:{images.tag_for(spec.binary())}"
    fake_registry.manifests[key] = b'{"someone": "else"}'  # the tag was moved
    assert images.ensure_image(spec) == ref  # same digest: the layers are reproducible
    assert fake_registry.manifests[key] != b'{"someone": "else"}'


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    spec = images.ImageSpec("gone", lambda: tmp_path / "gone", ("/gone",))
    with pytest.raises(PlatformError, match="binary is missing"):
        images.ensure_image(spec)


def test_registry_down_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "ADDRESS", "127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(PlatformError, match="did not answer"):
        registry.client().manifest_digest("x", "y")


def test_a_registry_that_is_not_ours_is_refused_not_used(
    fake_registry: type[FakeRegistry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path))
    assert registry.daemon().probe.ok() and registry.daemon().pid() is None
    with pytest.raises(PlatformError, match="not hello-platform's registry"):
        registry.ensure_running()


def test_our_registry_is_recognised_by_its_pidfile(
    fake_registry: type[FakeRegistry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path))
    monkeypatch.setattr(registry.daemons.Daemon, "pid", lambda _self: 4242)
    assert registry.ensure_running() == registry.ADDRESS


def test_pause_source_compiles_to_a_static_binary_spec() -> None:
    assert images.PAUSE_SOURCE.exists() and images.ECHO_SOURCE.exists()
    assert images.PAUSE.entrypoint == ("/pause",)
    node_images = {s.name for a in addons.NODE_ADDONS for s in a.images}
    assert node_images == {"coredns", "metrics-server"}


def test_docker_engine_absent_without_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker.shutil, "which", lambda name: None)
    assert not docker.engine_answers()


def test_docker_needs_root_to_start_an_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path))  # no dockerd of ours runs
    monkeypatch.setattr(docker, "engine_answers", lambda timeout=10.0, host=None: False)
    monkeypatch.setattr(docker.os, "geteuid", lambda: 1000)
    with pytest.raises(PlatformError, match="needs root"):
        docker.ensure_engine()


def test_docker_reuses_an_engine_that_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker, "engine_answers", lambda timeout=10.0: True)
    monkeypatch.setattr(docker.os, "geteuid", lambda: 1000)
    docker.ensure_engine()  # no error, nothing started


def test_our_dockerd_is_a_guest_own_socket_no_networking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "cache"))
    argv = docker.dockerd_argv(Path("/x/dockerd"))
    assert f"--host=unix://{tmp_path / 'state' / 'docker' / 'docker.sock'}" in argv
    assert f"--data-root={tmp_path / 'cache' / 'docker'}" in argv
    for flag in ("--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false"):
        assert flag in argv
    assert not [a for a in argv if "/var/run/docker" in a or "/var/lib/docker" in a]


def test_our_running_dockerd_is_used_through_docker_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(docker, "engine_answers", lambda timeout=10.0, host=None: host is not None)
    monkeypatch.setattr(docker.process, "running", lambda pidfile: 4242)
    docker.ensure_engine()
    assert docker.os.environ["DOCKER_HOST"] == docker.our_host()


LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd4a3f1000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f80dd4eb000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f80dd6e0000)
"""


def test_parse_ldd_names_the_libraries_but_not_the_vdso() -> None:
    libs = images.parse_ldd(LDD_OUTPUT)
    assert sorted(libs) == ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]


def test_a_dynamic_binary_gets_its_libraries_in_the_layer(
    fake_registry: type[FakeRegistry], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gzip
    import io
    import tarfile

    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "cache"))
    binary, lib = tmp_path / "tool", tmp_path / "libfake.so.1"
    binary.write_bytes(b"\x7fELF dynamic")
    lib.write_bytes(b"\x7fELF library")
    monkeypatch.setattr(images, "shared_libraries", lambda _b: {"/lib/libfake.so.1": lib})
    static = images.ImageSpec("tool", lambda: binary, ("/tool",))
    dynamic = images.ImageSpec(
        "tool", lambda: binary, ("/tool",), extra=images.with_shared_libraries(lambda: binary)
    )
    assert images.ensure_image(dynamic) != images.ensure_image(static)  # another tag
    tag = images.tag_for(binary, dynamic)
    manifest = json.loads(fake_registry.manifests[f"hello-platform/tool:{tag}"])
    layer = fake_registry.blobs[manifest["layers"][0]["digest"]]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
        names = tar.getnames()
        lib_member = tar.extractfile("lib/libfake.so.1")
        assert lib_member is not None and lib_member.read() == b"\x7fELF library"
    assert sorted(names) == ["lib/libfake.so.1", "tmp", "tool"]
