"""The second local registry: htpasswd (bcrypt) over TLS from the cluster CA."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from cryptography import x509
from hello_platform.clients import oci
from hello_platform.core.errors import PlatformError
from hello_platform.substrate import daemons, registry
from hello_platform.substrate.cluster import config, pki


def test_the_config_asks_for_a_login_over_tls(tmp_path: Path) -> None:
    text = registry.render_config(
        tmp_path / "store", "127.0.0.1:5443", htpasswd=tmp_path / "htpasswd", tls=tmp_path / "r"
    )
    doc = json.loads(text)
    assert doc["auth"] == {
        "htpasswd": {"realm": "hello-platform", "path": str(tmp_path / "htpasswd")}
    }
    assert doc["http"]["tls"] == {
        "certificate": str(tmp_path / "r.crt"),
        "key": str(tmp_path / "r.key"),
    }
    assert "auth" not in json.loads(registry.render_config(tmp_path))  # the plain one


def test_containerd_trusts_the_registry_through_the_cluster_ca(tmp_path: Path) -> None:
    doc = tomllib.loads(config.registry_hosts_toml("127.0.0.1:5443", tmp_path / "ca.crt"))
    assert doc["server"] == "https://127.0.0.1:5443"
    assert doc["host"]["https://127.0.0.1:5443"]["ca"] == str(tmp_path / "ca.crt")
    plain = tomllib.loads(config.registry_hosts_toml("127.0.0.1:5000"))
    assert (
        plain["server"] == "http://127.0.0.1:5000"
        and "ca" not in plain["host"]["http://127.0.0.1:5000"]
    )


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path / "state"))
    return tmp_path / "state"


def test_the_login_and_the_certificate_are_made_once(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry.daemons, "ensure", lambda _d: None)
    monkeypatch.setattr(registry.daemons, "refuse_foreign", lambda _d: None)
    monkeypatch.setattr("hello_platform.toolchain.resolve", lambda name: Path("/bin/true"))
    first = registry.ensure_auth_running()
    again = registry.ensure_auth_running()
    assert first == again and first.address == "127.0.0.1:5443"
    assert (first.password_file.stat().st_mode & 0o777) == 0o600
    user, hashed = (state / "registry-auth" / "htpasswd").read_text().strip().split(":", 1)
    assert user == first.username
    assert bcrypt.checkpw(first.password.encode(), hashed.encode())
    cert = pki.load_cert(state / "cluster" / "pki" / "registry-auth.crt")
    assert pki.signed_by(cert, pki.load_cert(first.ca))
    assert pki.sans(cert) == ({"localhost"}, {"127.0.0.1"})
    assert (
        x509.ExtendedKeyUsageOID.SERVER_AUTH
        in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    hosts = state / "cluster" / "etc" / "containerd-certs.d" / "127.0.0.1:5443" / "hosts.toml"
    assert tomllib.loads(hosts.read_text())["host"]["https://127.0.0.1:5443"]["ca"] == str(first.ca)


@pytest.fixture
def running(state: Path) -> Iterator[registry.AuthRegistry]:
    """The real Distribution binary (pinned, from the tool cache), under a private state."""
    found = registry.ensure_auth_running()
    yield found
    daemons.stop("registry-auth", forget=True)


@pytest.mark.slow
def test_the_real_registry_takes_the_login_and_refuses_a_wrong_one(
    running: registry.AuthRegistry,
) -> None:
    good = oci.Registry(
        running.address, oci.Credentials(running.username, running.password), ca=running.ca
    )
    client = oci.Client(good)
    digest = client.push_blob("e2e/probe", b"probe")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": oci.OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": digest, "size": 5},
            "layers": [],
        }
    ).encode()  # fmt: skip
    client.push_manifest("e2e/probe", "t1", manifest)
    assert client.manifest("e2e/probe", "t1") == oci.RemoteImage(oci.digest_of(manifest), digest)
    wrong = oci.Registry(running.address, oci.Credentials(running.username, "wrong"), ca=running.ca)
    with pytest.raises(PlatformError, match="refused the login of user 'hello-platform'"):
        oci.Client(wrong).check_login()
    untrusted = oci.Registry(running.address, good.credentials)
    with pytest.raises(PlatformError, match=r"TLS certificate .* is not trusted"):
        oci.Client(untrusted).check_login()


def test_registry_login_prints_how_to_push_there(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from hello_platform.cli import main

    found = registry.AuthRegistry(
        "127.0.0.1:5443", "hello-platform", tmp_path / "pw", tmp_path / "ca.crt"
    )
    monkeypatch.setattr(registry, "ensure_auth_running", lambda: found)
    assert main(["cluster", "registry-login"]) == 0
    out = capsys.readouterr().out
    assert f"--registry 127.0.0.1:5443 --registry-ca {tmp_path / 'ca.crt'}" in out
    assert "--registry-username hello-platform" in out
