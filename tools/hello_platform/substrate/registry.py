"""The local OCI registry on 127.0.0.1:5000 (Debian's ``docker-registry``).

The binary is unpacked from Debian's pinned .deb (toolchain.toml), never installed: the
package would start a registry on every interface. ``ensure_running()`` starts ours in
the background, bound to 127.0.0.1 only (storage under the cache dir, so pushed images
survive restarts and fresh clones), recognised by its pidfile; a registry of someone else
answering on the port is never used silently. It returns the address. :func:`client`
is THE OCI client (``clients.oci``) on it, to push and query images without Docker.
"""

from __future__ import annotations

import json
from pathlib import Path

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


def render_config(storage: Path, address: str = ADDRESS) -> str:
    """The registry's config.yml (JSON is valid YAML)."""
    doc = {
        "version": 0.1,
        "log": {"level": "warn", "fields": {"service": "registry"}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            "cache": {"blobdescriptor": "inmemory"},
        },
        "http": {"addr": address, "headers": {"X-Content-Type-Options": ["nosniff"]}},
    }
    return json.dumps(doc, indent=2) + "\n"


def healthy(timeout: float = 1.0) -> bool:
    """True if a registry answers ``GET /v2/`` on 127.0.0.1:5000 (ours or not)."""
    return daemon().probe.ok(timeout)


def ours() -> int | None:
    """The pid of hello-platform's registry, if it runs (by its pidfile)."""
    return daemon().pid()


def ours_healthy() -> bool:
    """True if our registry runs and answers (not merely something on the port)."""
    return ours() is not None and healthy()


def daemon(binary: str = "docker-registry") -> daemons.Daemon:
    """Our registry as a supervised daemon, bound to 127.0.0.1 only."""
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
    """Start the local registry unless ours answers already; return ``"127.0.0.1:5000"``."""
    if ours_healthy():
        return ADDRESS
    daemons.refuse_foreign(daemon())  # before any tool is provisioned
    from hello_platform.toolchain import resolve

    run_dir().mkdir(parents=True, exist_ok=True)
    storage_dir().mkdir(parents=True, exist_ok=True)
    (run_dir() / "config.yml").write_text(render_config(storage_dir()))
    if ours() is None:
        say(f"starting the local registry on {ADDRESS} (storage: {storage_dir()})")
    daemons.ensure(daemon(str(resolve("docker-registry"))))
    return ADDRESS


def client() -> oci.Client:
    """THE OCI client (:mod:`hello_platform.clients.oci`) on the local plain registry."""
    return oci.Client(oci.Registry(ADDRESS, plain_http=True))


def manifest_digest(repo: str, tag: str) -> str | None:
    """The digest of ``repo:tag`` in the local registry (None if it has no such tag)."""
    return client().manifest_digest(repo, tag)
