"""The optional checksum-verified release download, against a local HTTP server only."""

from __future__ import annotations

import functools
import hashlib
import io
import socket
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.toolchain import download, pins
from hello_platform.toolchain.pins import load
from hello_platform.toolchain.resolver import Resolver
from test_toolchain import FAKE_GO, PINS


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def release(root: Path, version: str) -> str:
    """A release tarball holding a 'solo' script; returns its SHA-256."""
    body = f"#!/bin/sh\necho '{version}'\n".encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(f"solo-{version}/solo")
        info.size = len(body)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(body))
    (root / f"solo-{version}-{download.platform_key()}.tar.gz").write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def use_pins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, sha: str) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    text = PINS + (
        f'\n[tools.solo.download]\nurl = "{url}/solo-{{version}}-{{os}}-{{arch}}.tar.gz"\n'
        f'sha256 = {{ {download.platform_key()} = "{sha}" }}\n'
    )
    (tmp_path / "toolchain.toml").write_text(text)
    monkeypatch.setattr(pins, "PINS_FILE", tmp_path / "toolchain.toml")


def test_verified_download_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: tuple[str, Path]
) -> None:
    url, root = server
    use_pins(tmp_path, monkeypatch, url, release(root, "v0.8.0"))
    (res,) = Resolver(pins=load()).resolve_tool("solo")
    assert res.source == "downloaded"
    assert res.path == tmp_path / "cache/tools/solo/v0.8.0/bin/solo"
    (again,) = Resolver(pins=load()).resolve_tool("solo")
    assert again.source == "cache"


def test_checksum_mismatch_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: tuple[str, Path]
) -> None:
    url, root = server
    release(root, "v0.8.0")
    use_pins(tmp_path, monkeypatch, url, "0" * 64)
    with pytest.raises(PlatformError, match=r"has SHA-256 .*, not the pinned 0000"):
        Resolver(pins=load()).resolve("solo")
    assert not (tmp_path / "cache/tools/solo/v0.8.0").exists()


def test_unreachable_release_falls_back_to_a_source_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    use_pins(tmp_path, monkeypatch, f"http://127.0.0.1:{port}", "a" * 64)
    go = tmp_path / "go"
    go.write_text(FAKE_GO)
    go.chmod(0o755)
    (tmp_path / "gostate").mkdir()
    monkeypatch.setenv("HELLO_PLATFORM_GO", str(go))
    monkeypatch.setenv("FAKE_GO_STATE", str(tmp_path / "gostate"))
    (res,) = Resolver(pins=load()).resolve_tool("solo")
    assert res.source == "built now"
    assert "building it from source instead" in capsys.readouterr().err


def test_bad_digest_in_pins_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "toolchain.toml"
    bad.write_text(PINS + '\n[tools.solo.download]\nurl = "x"\nsha256 = { linux-amd64 = "abc" }\n')
    with pytest.raises(PlatformError, match="64-digit hex digest"):
        load(bad)


# ------------------------------------------------------- .deb tools away from Debian bookworm


def fake_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, exit_code: int) -> None:
    """An apt-get on PATH that fails (no such version) or downloads nothing."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    (bindir / "apt-get").write_text(
        f"#!/bin/sh\necho 'E: Version not found' >&2\nexit {exit_code}\n"
    )
    (bindir / "apt-get").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")


POOL = "pool/main/s/solo/solo_1.0-1_amd64.deb"


@pytest.mark.skipif(download.platform_key() != "linux-amd64", reason="the pins are amd64's")
def test_a_deb_apt_cannot_give_comes_from_the_mirror_pool_verified(
    server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hello_platform.toolchain import debextract

    url, root = server
    (root / Path(POOL).parent).mkdir(parents=True)
    (root / POOL).write_bytes(b"!<arch>\nfake deb")
    sha = hashlib.sha256(b"!<arch>\nfake deb").hexdigest()
    fake_apt(tmp_path, monkeypatch, exit_code=100)
    monkeypatch.setenv("HELLO_PLATFORM_DEBIAN_MIRROR", url + "/")
    work = tmp_path / "work"
    work.mkdir()
    deb = debextract.download(
        "solo", "1.0-1", into=work, log=tmp_path / "log", pool_file=POOL, sha256=sha
    )
    assert deb == work / "solo_1.0-1_amd64.deb"
    assert "E: Version not found" in (tmp_path / "log").read_text()

    (root / POOL).write_bytes(b"!<arch>\nswapped")
    deb.unlink()
    with pytest.raises(PlatformError, match="not the pinned") as err:
        debextract.download(
            "solo", "1.0-1", into=work, log=tmp_path / "log", pool_file=POOL, sha256=sha
        )
    assert not list(work.glob("*.deb")), "a .deb that fails its digest is not kept"
    assert "deb_sha256" in (err.value.hint or "")


def test_without_apt_or_a_pool_pin_the_error_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hello_platform.toolchain import debextract

    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get at all
    with pytest.raises(PlatformError, match=r"solo=1.0-1 could not be downloaded \(apt-get is not"):
        debextract.download("solo", "1.0-1", into=tmp_path, log=tmp_path / "log")


def test_the_repository_pins_every_deb_tool_with_its_pool_file_and_digest() -> None:
    tools = [t for t in load().tools.values() if t.source == "deb"]
    assert {t.name for t in tools} >= {"docker", "docker-registry", "prometheus"}
    for t in tools:
        version = str(t.raw["package_version"])
        assert str(t.raw["deb_file"]).endswith(f"/{t.package}_{version}_amd64.deb"), t.name
        assert len(str(t.raw["deb_sha256"])) == 64, t.name
