"""The local OCI registries on 127.0.0.1 (Debian's ``docker-registry`` from its pinned .deb,
never installed): plain on :5000, and one with a login over TLS on :5443."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt

from hello_platform.clients import oci
from hello_platform.core.paths import cache_dir, state_dir
from hello_platform.core.progress import say
from hello_platform.substrate import daemons

HOST = "127.0.0.1"
PORT = 5000
ADDRESS = f"{HOST}:{PORT}"


def storage_dir() -> Path:
    return cache_dir() / "registry"


def run_dir() -> Path:
    return state_dir() / "registry"


def pidfile() -> Path:
    return daemon().pidfile


def render_config(
    storage: Path, address: str = ADDRESS, *, htpasswd: Path | None = None, tls: Path | None = None
) -> str:
    """The registry's config.yml (as JSON); ``tls`` is the stem of ``.crt``/``.key``."""
    doc: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "warn", "fields": {"service": "registry"}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "cache": {"blobdescriptor": "inmemory"},
        },
        "http": {"addr": address, "headers": {"X-Content-Type-Options": ["nosniff"]}},
    }
    if htpasswd is not None:
        doc["auth"] = {"htpasswd": {"realm": "hello-platform", "path": str(htpasswd)}}
    if tls is not None:
        doc["http"]["tls"] = {
            "certificate": str(tls.with_suffix(".crt")),
            "key": str(tls.with_suffix(".key")),
        }
    return json.dumps(doc, indent=2) + "\n"


def ours_healthy() -> bool:
    return daemon().answers()


def daemon(binary: str = "docker-registry") -> daemons.Daemon:
    return daemons.Daemon(
        name="registry",
        argv=(binary, "serve", str(run_dir() / "config.yml")),
        probe=daemons.Probe(http=f"http://{ADDRESS}/v2/"),
        run_dir=run_dir(),
        foreign=(
            f"something else answers on {ADDRESS} (not hello-platform's registry), and "
            "pushing our images into a registry we do not own is not safe"
        ),
        foreign_hint="stop that registry (or free port 5000) and run again",
    )


def ensure_running() -> str:
    if ours_healthy():
        return ADDRESS
    daemons.refuse_foreign(daemon())  # before any tool is provisioned
    from hello_platform.toolchain import resolve

    run_dir().mkdir(parents=True, exist_ok=True)
    storage_dir().mkdir(parents=True, exist_ok=True)
    (run_dir() / "config.yml").write_text(render_config(storage_dir()))
    if daemon().pid() is None:
        say(f"starting the local registry on {ADDRESS} (storage: {storage_dir()})")
    daemons.ensure(daemon(str(resolve("docker-registry"))))
    return ADDRESS


def client() -> oci.Client:
    return oci.Client(oci.Registry(ADDRESS, plain_http=True))


# The second local registry: a login (htpasswd, bcrypt) over TLS from the cluster's CA.
AUTH_PORT = 5443
AUTH_ADDRESS = f"{HOST}:{AUTH_PORT}"
AUTH_USER = "hello-platform"


@dataclass(frozen=True)
class AuthRegistry:
    address: str
    username: str
    password_file: Path
    ca: Path

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()


def auth_run_dir() -> Path:
    return state_dir() / "registry-auth"


def auth_daemon(binary: str = "docker-registry") -> daemons.Daemon:
    return daemons.Daemon(
        name="registry-auth",
        argv=(binary, "serve", str(auth_run_dir() / "config.yml")),
        probe=daemons.Probe(tcp=AUTH_ADDRESS),
        run_dir=auth_run_dir(),
        foreign=f"something else listens on {AUTH_ADDRESS} (not hello-platform's registry)",
        foreign_hint=f"stop it (or free port {AUTH_PORT}) and run again",
    )


def _password(run: Path) -> Path:
    path = run / "password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24) + "\n")
    return path


def _certificate() -> tuple[Path, Path]:
    """The registry's certificate from the cluster CA, which the node's containerd trusts for
    it: the certificate's stem and the CA's path."""
    from hello_platform.substrate.cluster import config, pki
    from hello_platform.substrate.cluster.layout import Layout

    lay = Layout.default()
    leaf = pki.Leaf(
        "registry-auth", "hello-platform-registry", dns=("localhost",), ips=(HOST,),
        usages=pki.SERVER,
    )  # fmt: skip
    pki.ensure_pki(lay.pki, [leaf])
    hosts = lay.registry_hosts_dir / AUTH_ADDRESS / "hosts.toml"
    config.write(hosts, config.registry_hosts_toml(AUTH_ADDRESS, lay.cert("ca")))
    return lay.pki / leaf.name, lay.cert("ca")


def ensure_auth_running() -> AuthRegistry:
    run = auth_run_dir()
    run.mkdir(parents=True, exist_ok=True)
    password = _password(run)
    tls, ca = _certificate()
    found = AuthRegistry(AUTH_ADDRESS, AUTH_USER, password, ca)
    if auth_daemon().answers():
        return found
    daemons.refuse_foreign(auth_daemon())
    from hello_platform.toolchain import resolve

    storage = cache_dir() / "registry-auth"
    storage.mkdir(parents=True, exist_ok=True)
    hashed = bcrypt.hashpw(found.password.encode(), bcrypt.gensalt(rounds=10)).decode()
    htpasswd = run / "htpasswd"
    htpasswd.touch(mode=0o600)
    htpasswd.write_text(f"{AUTH_USER}:{hashed}\n")
    config_text = render_config(storage, AUTH_ADDRESS, htpasswd=htpasswd, tls=tls)
    (run / "config.yml").write_text(config_text)
    say(f"starting the local registry with a login on {AUTH_ADDRESS} (TLS, user {AUTH_USER})")
    daemons.ensure(auth_daemon(str(resolve("docker-registry"))))
    return found
