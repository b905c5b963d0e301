"""Promotion by git without a cluster: the outcome records (git tags in a bare repository),
the refusals, the copy by digest between two real registry processes (the pinned
Distribution binary on loopback ports: an image index and its manifest, blobs copied,
mounted or present, the digest read back), a copy that reads back wrong, and a promotion
from one environment branch into another with its one commit."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from hello_platform.clients import oci, ocicopy
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.gitops import gitserver, records, release
from hello_platform.pipeline.promote import promotion
from hello_platform.substrate import registry

REPO = "hello-platform/hello"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two plain Distribution registries on free loopback ports."""
    from hello_platform.toolchain import resolve

    binary, procs, addresses = str(resolve("docker-registry")), [], []
    for name in ("a", "b"):
        where = tmp_path_factory.mktemp(f"registry-{name}")
        address = f"127.0.0.1:{free_port()}"
        (where / "config.yml").write_text(registry.render_config(where / "store", address))
        log = (where / "log").open("w")
        procs.append(subprocess.Popen([binary, "serve", str(where / "config.yml")], stderr=log))
        addresses.append(address)
    deadline = time.monotonic() + 20
    for address in addresses:
        while not _up(address):
            assert time.monotonic() < deadline, f"the registry on {address} did not start"
            time.sleep(0.1)
    yield addresses[0], addresses[1]
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def _up(address: str) -> bool:
    try:
        return httpx.get(f"http://{address}/v2/", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def client(address: str) -> oci.Client:
    return oci.Client(oci.Registry(address, plain_http=True))


def push_image(address: str, tag: str, layer: bytes) -> str:
    """A one-layer image and an index naming it, pushed as ``REPO:tag``; the index's digest."""
    c = client(address)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {}}).encode()
    blobs = [(c.push_blob(REPO, data), len(data)) for data in (config, layer)]
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": blobs[0][0], "size": blobs[0][1]},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": blobs[1][0], "size": blobs[1][1]}],
    }).encode()  # fmt: skip
    child = c.push_manifest(REPO, f"{tag}-amd64", manifest)
    index = json.dumps({
        "schemaVersion": 2, "mediaType": ocicopy.OCI_INDEX,
        "manifests": [{"mediaType": oci.OCI_MANIFEST, "digest": child, "size": len(manifest),
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    }).encode()  # fmt: skip
    return c.push_manifest(REPO, tag, index, ocicopy.OCI_INDEX)


def test_an_index_is_copied_by_digest_and_read_back(registries: tuple[str, str]) -> None:
    a, b = registries
    digest = push_image(a, "v1", b"layer-one" * 1000)
    src, dst = ocicopy.Repo(client(a), REPO), ocicopy.Repo(client(b), REPO)
    done = ocicopy.copy(src, dst, digest, "v1")
    assert done.manifests == 2 and done.media_types == [oci.OCI_MANIFEST, ocicopy.OCI_INDEX]
    assert done.blobs_copied == 2 and done.bytes_copied == done.bytes_total > 9000
    assert client(b).manifest_digest(REPO, "v1") == digest
    again = ocicopy.copy(src, dst, digest, "v1")
    assert again.blobs_present == 2 and again.bytes_copied == 0 < again.bytes_total
    moved = ocicopy.copy(src, ocicopy.Repo(client(a), "other/hello"), digest, "v1")
    assert moved.blobs_mounted == 2 and moved.bytes_copied == 0  # same registry: mounted


def test_a_copy_that_reads_back_another_digest_is_refused(registries: tuple[str, str]) -> None:
    a, _ = registries
    digest = push_image(a, "v2", b"layer-two")

    def liar(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD" and "/manifests/" in request.url.path:
            return httpx.Response(200, headers={"Docker-Content-Digest": "sha256:" + "0" * 64})
        if request.method == "HEAD":
            return httpx.Response(200)  # every blob "present"
        if request.method == "GET":
            body, media = ocicopy.fetch_manifest(ocicopy.Repo(client(a), REPO), digest)
            return httpx.Response(200, content=body, headers={"Content-Type": media})
        return httpx.Response(201)

    fake = oci.Client(oci.Registry("reg.example"), transport=httpx.MockTransport(liar))
    with pytest.raises(PlatformError, match=r"reads back as sha256:0+ \(tag v2\)"):
        ocicopy.copy(ocicopy.Repo(client(a), REPO), ocicopy.Repo(fake, REPO), digest, "v2")


def test_an_unreachable_target_is_one_sentence(registries: tuple[str, str]) -> None:
    a, _ = registries
    digest = push_image(a, "v3", b"layer-three")
    down = client(f"127.0.0.1:{free_port()}")
    with pytest.raises(PlatformError, match=r"the registry at 127\.0\.0\.1:\d+ did not answer"):
        ocicopy.copy(ocicopy.Repo(client(a), REPO), ocicopy.Repo(down, REPO), digest, "v3")


@pytest.fixture
def gitops(tmp_path: Path) -> Iterator[str]:
    """A bare GitOps repository with the branches gitops/local and gitops/staging."""
    bare, work = tmp_path / "gitops.git", tmp_path / "seed"
    gitserver.git("init", "--quiet", "--bare", str(bare))
    gitserver.git("init", "--quiet", "-b", "main", str(work))
    gitserver.git("-C", str(work), "commit", "--quiet", "--allow-empty", "-m", "seed")
    for branch in ("gitops/local", "gitops/staging"):
        gitserver.git("-C", str(work), "push", "--quiet", str(bare), f"main:{branch}")
    yield f"file://{bare}"


def release_to(url: str, env: str, address: str, tag: str, digest: str) -> str:
    image = promotion.Image(address, REPO, tag, digest)
    return release.commit_image(env, image, url=url)


def test_records_the_latest_outcome_decides(gitops: str) -> None:
    digest = "sha256:" + "a" * 64
    with pytest.raises(PlatformError, match="has not passed in environment 'local'"):
        records.passed("local", digest, url=gitops)
    first = release_to(gitops, "local", "127.0.0.1:5000", "v1", digest)
    records.write("local", digest, records.PASSED, first, url=gitops)
    assert records.passed("local", digest, url=gitops).commit == first
    again = release_to(gitops, "local", "127.0.0.1:5000", "v1-drill", digest)
    records.write("local", digest, records.REVERTED, again, url=gitops)
    with pytest.raises(PlatformError) as refused:
        records.passed("local", digest, url=gitops)
    assert str(refused.value).startswith(
        f"{digest} cannot be promoted: its last release in environment 'local' "
        f"(commit {again[:12]}) failed its checks and was reverted"
    )
    assert [r.verdict for r in records.read("local", digest, url=gitops)] == ["passed", "reverted"]
    with pytest.raises(PlatformError, match="is not an image digest"):
        records.key("latest")


def test_a_passed_digest_is_copied_and_committed_once(
    gitops: str, registries: tuple[str, str]
) -> None:
    a, b = registries
    local = promotion.Environment("local", a, "gitops/local")
    staging = promotion.Environment("staging", b, "gitops/staging")
    reach = promotion.Registries(lambda host: oci.Registry(host, plain_http=True),
                                 oci.Registry(b, plain_http=True))  # fmt: skip
    digest = push_image(a, "v4", b"layer-four")
    with pytest.raises(PlatformError, match="nothing was released in environment 'local'"):
        promotion.promote(local, staging, reach, url=gitops)
    commit = release_to(gitops, "local", a, "v4", digest)
    with pytest.raises(PlatformError, match="has not passed in environment 'local'"):
        promotion.promote(local, staging, reach, url=gitops)
    records.write("local", digest, records.PASSED, commit, url=gitops)
    done = promotion.promote(local, staging, reach, url=gitops)
    assert done.copied is not None and done.copied.digest == digest
    assert done.previous_digest is None  # staging ran nothing before
    assert client(b).manifest_digest(REPO, "v4") == digest
    text = gitserver.read_file("gitops/staging", staging.image_file, url=gitops)
    assert yaml.safe_load(text or "")["image"] == {
        "repository": f"{b}/{REPO}",
        "tag": "v4",
        "digest": digest,
    }
    subject = gitserver.log("gitops/staging", 1, url=gitops)[0].split(" ", 2)[2]
    assert subject == f"promote(staging): {REPO} {digest} from local"
    body = gitserver.git("-C", str(gitops.removeprefix("file://")), "log", "-1", "--format=%b",
                         "gitops/staging")  # fmt: skip
    assert f"passed in local at gitops/local {commit}" in body
    with pytest.raises(PlatformError, match="--from and --to are both 'local'"):
        promotion.pair("local", "local")
    with pytest.raises(PlatformError, match="unknown environment 'prod'"):
        promotion.pair("local", "prod")


def test_the_environments_are_declared_once() -> None:
    found = promotion.environments()
    assert {"local", "staging", "eks"} <= found.keys()
    assert found["staging"].registry == registry.AUTH_ADDRESS
    assert found["local"].registry == registry.ADDRESS
    for env in found.values():
        assert env.branch == gitserver.env_branch(env.name)
        assert (promotion.paths.REPO_ROOT / env.app).is_file()


def test_the_application_to_watch_and_its_service() -> None:
    found = promotion.environments()
    staging = promotion.app_of(found["staging"])
    assert staging == ("hello-staging", release.env_service("local").name, "hello-staging")
    assert promotion.app_of(found["eks"])[0] == "hello-eks"  # multi-source: the chart's path
    with pytest.raises(PlatformError, match="names no Application file to watch"):
        promotion.app_of(promotion.Environment("x", "r", "gitops/x", "nowhere.yaml"))
