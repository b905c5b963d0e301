"""The local OCI registry on 127.0.0.1:5000 (Debian's ``docker-registry``).

The binary is unpacked from Debian's pinned .deb (toolchain.toml), never installed: the
package would start a registry on every interface. ``ensure_running()`` starts ours in
the background, bound to 127.0.0.1 only (storage under the cache dir, so pushed images
survive restarts and fresh clones), recognised by its pidfile; a registry of someone else
answering on the port is never used silently. It returns the address. The small HTTP
helpers below push and query images without Docker.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import cache_dir, state_dir
from hello_platform.core.progress import say
from hello_platform.substrate import daemons

HOST = "127.0.0.1"
PORT = 5000
ADDRESS = f"{HOST}:{PORT}"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_ACCEPT = ", ".join(
    [
        OCI_MANIFEST,
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


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


def _request(
    method: str, url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    # Only ever http://127.0.0.1:5000/... (built from ADDRESS above).
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()
    except OSError as err:
        raise PlatformError(
            f"the local registry at {ADDRESS} did not answer ({err})",
            hint="run `hello-platform cluster up` (it starts the registry)",
        ) from err


def manifest_digest(repo: str, tag: str) -> str | None:
    """The digest of ``repo:tag`` in the local registry (None if it has no such tag)."""
    status, headers, _ = _request(
        "HEAD", f"http://{ADDRESS}/v2/{repo}/manifests/{tag}", headers={"Accept": _ACCEPT}
    )
    if status != 200:
        return None
    found = {k.lower(): v for k, v in headers.items()}.get("docker-content-digest")
    return found or ""


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(repo: str, data: bytes) -> str:
    """Upload ``data`` as a blob of ``repo`` (skipped if present); return its digest."""
    digest = digest_of(data)
    status, _, _ = _request("HEAD", f"http://{ADDRESS}/v2/{repo}/blobs/{digest}")
    if status == 200:
        return digest
    status, headers, body = _request("POST", f"http://{ADDRESS}/v2/{repo}/blobs/uploads/")
    location = headers.get("Location") or headers.get("location")
    if status != 202 or not location:
        raise PlatformError(f"the registry refused an upload to {repo}: {status} {body[:200]!r}")
    if location.startswith("/"):
        location = f"http://{ADDRESS}{location}"
    sep = "&" if "?" in location else "?"
    status, _, body = _request(
        "PUT",
        f"{location}{sep}digest={digest}",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    if status != 201:
        raise PlatformError(
            f"the registry refused blob {digest} of {repo}: {status} {body[:200]!r}"
        )
    return digest


def push_manifest(repo: str, tag: str, manifest: bytes, media_type: str = OCI_MANIFEST) -> str:
    """Store ``manifest`` as ``repo:tag``; return its digest."""
    status, _, body = _request(
        "PUT",
        f"http://{ADDRESS}/v2/{repo}/manifests/{tag}",
        data=manifest,
        headers={"Content-Type": media_type},
    )
    if status != 201:
        raise PlatformError(f"the registry refused {repo}:{tag}: {status} {body[:200]!r}")
    return digest_of(manifest)
