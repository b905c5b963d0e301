"""THE OCI registry client: the Distribution API (v2) over httpx, with the login handshake
ECR, GHCR and Distribution speak (a 401's Basic or Bearer challenge, :class:`ChallengeAuth`)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import ssl
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hello_platform.core.errors import PlatformError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_ACCEPT = ", ".join([OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST])
ACCEPT = {"Accept": MANIFEST_ACCEPT}
PASSWORD_ENV = "HELLO_PLATFORM_REGISTRY_PASSWORD"  # noqa: S105 - a variable's name
_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)  # never printed


@dataclass(frozen=True)
class Registry:
    address: str
    credentials: Credentials | None = None
    #: PEM bundle of the CA (None: the system's trust store).
    ca: Path | None = None
    #: Plain HTTP (only the local registry on 127.0.0.1).
    plain_http: bool = False
    #: A path every repository goes under (GHCR's ``OWNER``), from ``HOST/NAMESPACE``.
    namespace: str = ""

    def repository(self, name: str) -> str:
        return f"{self.namespace}/{name}" if self.namespace else name

    @property
    def base(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.address}"


@dataclass(frozen=True)
class RemoteImage:
    """A tag's manifest digest and config digest (= Docker image ID)."""

    digest: str
    config_digest: str


def basic(creds: Credentials) -> str:
    pair = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def challenge(header: str) -> tuple[str, dict[str, str]]:
    """``WWW-Authenticate: Bearer realm="...",service="..."`` as ``("bearer", {...})``."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_PARAM.findall(rest))


class ChallengeAuth(httpx.Auth):
    """Answer a 401's Basic or Bearer challenge once per request."""

    def __init__(self, registry: Registry, transport: httpx.BaseTransport | None = None) -> None:
        self.registry = registry
        self.transport = transport
        self._header: str | None = None  # the last accepted Authorization, reused

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._header:
            request.headers["Authorization"] = self._header
        response = yield request
        if response.status_code != 401 or "www-authenticate" not in response.headers:
            return
        scheme, params = challenge(response.headers["www-authenticate"])
        creds = self.registry.credentials
        if scheme == "basic" and creds is not None:
            self._header = basic(creds)
        elif scheme == "bearer" and "realm" in params:
            self._header = f"Bearer {self._token(params)}"
        else:
            return
        request.headers["Authorization"] = self._header
        yield request

    def _token(self, params: dict[str, str]) -> str:
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        creds = self.registry.credentials
        headers = {"Authorization": basic(creds)} if creds else {}
        verify = _verify(self.registry)
        with httpx.Client(verify=verify, timeout=30, transport=self.transport) as http:
            try:
                got = http.get(params["realm"], params=query, headers=headers)
            except httpx.HTTPError as err:
                raise _unreachable(self.registry, err) from err
        if got.status_code in (401, 403):
            raise refused(self.registry)
        try:
            doc = got.json()
            return str(doc.get("token") or doc["access_token"])
        except (ValueError, KeyError, TypeError) as err:
            raise PlatformError(
                f"the token service of {self.registry.address} answered "
                f"{got.status_code} without a token"
            ) from err


def _verify(registry: Registry) -> ssl.SSLContext | bool:
    if registry.ca is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(registry.ca))
    except (OSError, ssl.SSLError) as err:
        raise PlatformError(
            f"the CA bundle {registry.ca} of {registry.address} could not be read ({err})",
            hint="pass a PEM file of CA certificates with --registry-ca",
        ) from err


def _unreachable(registry: Registry, err: Exception) -> PlatformError:
    if "CERTIFICATE_VERIFY_FAILED" in str(err):
        return PlatformError(
            f"the TLS certificate of the registry {registry.address} is not trusted ({err})",
            hint="pass the CA bundle that issued it with --registry-ca",
        )
    return PlatformError(
        f"the registry at {registry.address} did not answer ({err})",
        hint="check the address (and its CA bundle, --registry-ca); the local registries "
        "start with `hello-platform cluster up`",
    )


def refused(registry: Registry) -> PlatformError:
    creds = registry.credentials
    problem = (
        "requires a login and none was given"
        if creds is None
        else f"refused the login of user '{creds.username}' "
        "(wrong user name or password, or an expired token)"
    )
    hint = (
        f"pass --registry-username with the password in ${PASSWORD_ENV} (or "
        f"--registry-password-stdin), or `docker login {registry.address}` (ECR: "
        "`aws ecr get-login-password | docker login --username AWS --password-stdin "
        "ACCOUNT.dkr.ecr.REGION.amazonaws.com`)"
    )
    return PlatformError(f"the registry {registry.address} {problem}", hint=hint)


class Client:
    def __init__(
        self,
        registry: Registry,
        *,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.registry = registry
        self._http = httpx.Client(
            base_url=registry.base,
            auth=ChallengeAuth(registry, transport),
            verify=_verify(registry),
            timeout=timeout,
            transport=transport,
        )

    def call(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request (a path under the registry, or a full URL it gave)."""
        try:
            response = self._http.request(method, url, content=data, headers=headers)
        except httpx.HTTPError as err:
            raise _unreachable(self.registry, err) from err
        if response.status_code in (401, 403) and "www-authenticate" in response.headers:
            raise refused(self.registry)
        return response

    def check_login(self) -> None:
        """``GET /v2/``: the registry answers and accepts the login."""
        status = self.call("GET", "/v2/").status_code
        if status != 200:
            raise PlatformError(f"the registry at {self.registry.address} answered {status}")

    def manifest(self, repository: str, tag: str) -> RemoteImage | None:
        """The image behind ``repository:tag``, or None when the tag does not exist."""
        got = self.call("GET", f"/v2/{repository}/manifests/{tag}", headers=ACCEPT)
        if got.status_code == 404:
            return None
        if got.status_code != 200:
            raise PlatformError(
                f"the registry at {self.registry.address} answered {got.status_code} "
                f"for {repository}:{tag}"
            )
        digest = got.headers.get("docker-content-digest") or digest_of(got.content)
        try:
            config = json.loads(got.content)["config"]["digest"]
        except (ValueError, KeyError, TypeError) as err:
            raise PlatformError(
                f"{repository}:{tag} in the registry is not a single-platform image manifest"
            ) from err
        return RemoteImage(digest=str(digest), config_digest=str(config))

    def manifest_digest(self, repository: str, tag: str) -> str | None:
        got = self.call("HEAD", f"/v2/{repository}/manifests/{tag}", headers=ACCEPT)
        return got.headers.get("docker-content-digest", "") if got.status_code == 200 else None

    def push_blob(self, repository: str, data: bytes) -> str:
        """Upload a blob (skipped if present); its digest."""
        digest = digest_of(data)
        if self.call("HEAD", f"/v2/{repository}/blobs/{digest}").status_code == 200:
            return digest
        started = self.call("POST", f"/v2/{repository}/blobs/uploads/")
        location = started.headers.get("location")
        if started.status_code != 202 or not location:
            raise self._refusal(f"an upload to {repository}", started)
        sep = "&" if "?" in location else "?"
        octets = {"Content-Type": "application/octet-stream"}
        done = self.call("PUT", f"{location}{sep}digest={digest}", data=data, headers=octets)
        if done.status_code != 201:
            raise self._refusal(f"blob {digest} of {repository}", done)
        return digest

    def push_manifest(
        self, repository: str, tag: str, manifest: bytes, media_type: str = OCI_MANIFEST
    ) -> str:
        path, kind = f"/v2/{repository}/manifests/{tag}", {"Content-Type": media_type}
        got = self.call("PUT", path, data=manifest, headers=kind)
        if got.status_code != 201:
            raise self._refusal(f"{repository}:{tag}", got)
        return digest_of(manifest)

    def _refusal(self, what: str, got: httpx.Response) -> PlatformError:
        return PlatformError(
            f"the registry {self.registry.address} refused {what}: "
            f"{got.status_code} {got.content[:200]!r}"
        )
