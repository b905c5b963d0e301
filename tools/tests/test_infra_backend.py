"""The envs' real S3 backend settings against moto's server: real tofu, real HTTP, no AWS.

One moto server (127.0.0.1, free port) for the module; each test gets its own bucket
contents through a fresh server-side reset. Takes about 1-2 s plus a 3 s held lock.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import infra_backend_harness as harness
import pytest
from hello_platform.pipeline.infra import backend as be
from hello_platform.pipeline.infra import emulator
from hello_platform.toolchain import resolve

HOLD_SECONDS = 3


@pytest.fixture(scope="module")
def tofu() -> Path:
    return resolve("tofu")


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with emulator.moto_server(log=log) as url:
        yield url


@pytest.fixture
def backend(moto_url: str) -> be.Backend:
    # A clean emulator per test: moto's reset API drops every bucket and key.
    reset = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=5):
        pass
    backend = be.for_layer("dev", "network", moto_url)
    harness.prepare_bucket(backend)
    return backend


@pytest.fixture
def workdir(tmp_path: Path, tofu: Path, backend: be.Backend) -> Path:
    work = harness.write_config(tmp_path / "layer", backend)
    done = harness.init(tofu, work, backend, "dev")
    assert done.ok, done.output
    return work


def test_backend_settings_are_the_envs_own(backend: be.Backend) -> None:
    assert backend.settings["use_lockfile"] is True
    assert backend.settings["encrypt"] is True
    assert backend.key == "dev/network.tfstate"


def test_state_written_encrypted_and_versioned(
    tofu: Path, workdir: Path, backend: be.Backend
) -> None:
    start = time.monotonic()
    first = harness.apply(tofu, workdir, "one")
    elapsed = time.monotonic() - start
    assert first.ok, first.output
    head = harness.state_object(backend)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(str(backend.settings["kms_key_id"]))
    second = harness.apply(tofu, workdir, "two")
    assert second.ok, second.output
    assert len(harness.versions(backend)) >= 2
    assert harness.state_revision(backend) == "two"
    assert not harness.lock_exists(backend), "the lock must be released after apply"
    assert elapsed < 30


def test_concurrent_apply_is_refused_by_the_lock(
    tofu: Path, workdir: Path, backend: be.Backend
) -> None:
    holder = harness.start_apply(tofu, workdir, "held", HOLD_SECONDS)
    try:
        deadline = time.monotonic() + 20
        while not harness.lock_exists(backend):
            assert holder.poll() is None, "the first apply ended before taking the lock"
            assert time.monotonic() < deadline, "the first apply never took the lock"
            time.sleep(0.05)
        second = harness.apply(tofu, workdir, "intruder")
        assert not second.ok
        assert "Error acquiring the state lock" in second.output
    finally:
        out, _ = holder.communicate(timeout=60)
    assert holder.returncode == 0, out
    assert not harness.lock_exists(backend)
    assert harness.state_revision(backend) == "held"


def test_leftovers_are_listed_and_a_bucket_emptied(moto_url: str, backend: be.Backend) -> None:
    from hello_platform.pipeline.infra import leftovers

    region = backend.region
    left = leftovers.listing(moto_url, region)
    assert left["s3 buckets"] == [backend.bucket]  # the fixture's state bucket
    assert len(left["kms keys not pending deletion"]) == 1
    assert left["kms aliases"] == [str(backend.settings["kms_key_id"])]
    ec2 = leftovers._client("ec2", moto_url, region)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    assert leftovers.listing(moto_url, region)["ec2 VPCs (not default)"] == [vpc]
    s3 = harness.s3_client(backend)
    for body in (b"1", b"2"):
        s3.put_object(Bucket=backend.bucket, Key="dev/x.tfstate", Body=body)
    assert leftovers.empty_bucket(moto_url, region, backend.bucket) == 2
    assert "Versions" not in s3.list_object_versions(Bucket=backend.bucket)
