"""THE OCI client: the Basic and Bearer login handshakes, refusals, pushes; credentials."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import httpx
import pytest
from hello_platform.clients import oci, ocicreds
from hello_platform.core.errors import PlatformError

GOOD = oci.Credentials("ci", "s3cret")
MANIFEST = json.dumps({"config": {"digest": "sha256:" + "c" * 64}}).encode()


class FakeRegistry:
    """A registry that wants ``ci:s3cret``, by Basic or by a Bearer token from its realm."""

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, bytes] = {}
        self.token_queries: list[dict[str, str]] = []

    def _authorized(self, request: httpx.Request) -> bool:
        got = request.headers.get("authorization", "")
        return got in (oci.basic(GOOD), "Bearer tok-123")

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            self.token_queries.append(dict(request.url.params))
            if request.headers.get("authorization") != oci.basic(GOOD):
                return httpx.Response(401)
            return httpx.Response(200, json={"token": "tok-123"})
        if not self._authorized(request):
            challenge = (
                'Basic realm="registry"'
                if self.scheme == "basic"
                else 'Bearer realm="https://reg.example/token",service="reg.example",'
                'scope="repository:hello:pull,push"'
            )
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return self.api(request)

    def api(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if path == "/v2/":
            return httpx.Response(200)
        if "/manifests/" in path:
            if method == "PUT":
                self.manifests[path] = request.read()
                return httpx.Response(201)
            body = self.manifests.get(path)
            if body is None:
                return httpx.Response(404)
            return httpx.Response(200, content=body, headers={"Docker-Content-Digest": "sha256:d"})
        if path.endswith("/blobs/uploads/"):
            return httpx.Response(202, headers={"Location": "/v2/hello/blobs/uploads/u1?state=x"})
        if "/blobs/uploads/" in path:
            self.blobs[request.url.params["digest"]] = request.read()
            return httpx.Response(201)
        return httpx.Response(200 if path.rsplit("/", 1)[-1] in self.blobs else 404)


def client(fake: FakeRegistry, creds: oci.Credentials | None = GOOD) -> oci.Client:
    registry = oci.Registry("reg.example", credentials=creds)
    return oci.Client(registry, transport=httpx.MockTransport(fake.handler))


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_push_and_read_back_through_the_login_handshake(scheme: str) -> None:
    fake = FakeRegistry(scheme)
    c = client(fake)
    c.check_login()
    layer = c.push_blob("hello", b"layer")
    assert fake.blobs[layer] == b"layer"
    assert c.push_blob("hello", b"layer") == layer  # present: not uploaded again
    assert c.push_manifest("hello", "1.0", MANIFEST) == oci.digest_of(MANIFEST)
    assert c.manifest("hello", "1.0") == oci.RemoteImage("sha256:d", "sha256:" + "c" * 64)
    assert c.manifest("hello", "absent") is None
    assert c.manifest_digest("hello", "1.0") == "sha256:d"
    if scheme == "bearer":
        assert fake.token_queries[0] == {
            "service": "reg.example",
            "scope": "repository:hello:pull,push",
        }


@pytest.mark.parametrize("scheme", ["basic", "bearer"])
def test_a_wrong_password_is_one_sentence_naming_the_registry(scheme: str) -> None:
    with pytest.raises(PlatformError) as err:
        client(FakeRegistry(scheme), oci.Credentials("ci", "wrong")).check_login()
    assert err.value.message == (
        "the registry reg.example refused the login of user 'ci' "
        "(wrong user name or password, or an expired token)"
    )
    assert "aws ecr get-login-password" in (err.value.hint or "")


def test_no_login_for_a_registry_that_needs_one_says_so() -> None:
    with pytest.raises(PlatformError, match="requires a login and none was given"):
        client(FakeRegistry("basic"), None).manifest("hello", "1.0")


def test_the_challenge_is_parsed() -> None:
    scheme, params = oci.challenge('Bearer realm="https://a/token",service="a",scope="x:y:pull"')
    assert scheme == "bearer"
    assert params == {"realm": "https://a/token", "service": "a", "scope": "x:y:pull"}


def test_tls_is_verified_against_the_given_ca(tmp_path: Path) -> None:
    bad_ca = tmp_path / "ca.pem"
    bad_ca.write_text("not a certificate")
    with pytest.raises(PlatformError, match=r"the CA bundle .* could not be read"):
        oci.Client(oci.Registry("127.0.0.1:9", ca=bad_ca), timeout=2).check_login()


def test_credentials_come_from_docker_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv(oci.PASSWORD_ENV, raising=False)
    assert ocicreds.resolve("reg.example", None) is None
    auth = base64.b64encode(b"AWS:token").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"reg.example": {"auth": auth}}}))
    assert ocicreds.resolve("reg.example", None) == oci.Credentials("AWS", "token")
    assert ocicreds.resolve("other.example", None) is None


def test_an_explicit_login_takes_its_password_from_env_or_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(oci.PASSWORD_ENV, raising=False)
    with pytest.raises(PlatformError, match="without a password"):
        ocicreds.resolve("reg.example", "ci")
    monkeypatch.setenv(oci.PASSWORD_ENV, "from-env")
    assert ocicreds.resolve("reg.example", "ci") == oci.Credentials("ci", "from-env")
    piped = ocicreds.resolve("reg.example", "AWS", password_stdin=True, stdin=io.StringIO("t\n"))
    assert piped == oci.Credentials("AWS", "t")
    assert "from-env" not in repr(piped)


def test_docker_config_json_is_what_a_pull_secret_holds() -> None:
    doc = json.loads(ocicreds.docker_config_json("reg.example", GOOD))
    entry = doc["auths"]["reg.example"]
    assert base64.b64decode(entry["auth"]).decode() == "ci:s3cret"
