"""Finding the local hashicorp/aws binary, the CLI config that serves it, the version shim;
the emulator's generated overrides and the drift classification (no tofu run here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hello_platform.pipeline.infra import drift, emulated, provider
from hello_platform.pipeline.infra import tofu as tf


def mirror(root: Path, version: str, host: str = "registry.terraform.io") -> Path:
    folder = root / host / "hashicorp" / "aws" / version / provider.os_arch()
    folder.mkdir(parents=True)
    binary = folder / f"terraform-provider-aws_v{version}_x5"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    return folder


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(provider, "SEARCH_ROOTS", ())
    monkeypatch.delenv(provider.ENV_MIRROR, raising=False)
    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_the_newest_binary_of_the_given_mirror_is_found(isolated: Path) -> None:
    mirror(isolated / "m", "5.9.0")
    newest = mirror(isolated / "m", "5.100.0")
    found = provider.find(str(isolated / "m"))
    assert found is not None and (found.version, found.directory) == ("5.100.0", newest)


def test_the_environment_names_a_mirror(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror(isolated / "env", "6.32.1")
    monkeypatch.setenv(provider.ENV_MIRROR, str(isolated / "env"))
    found = provider.find()
    assert found is not None and found.version == "6.32.1"


def test_none_found_is_said_in_one_sentence(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(provider.paths, "out_dir", lambda: isolated / "out")
    _, local, env = provider.prepare("t", str(isolated / "empty"))
    assert local is None and env == {}
    sentence = capsys.readouterr().out
    assert sentence.count(".") <= 4 and "installs it from the registry." in sentence


def test_the_cli_config_serves_the_binary_to_opentofu(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = mirror(isolated / "m", "5.100.0")
    local = provider.find(str(isolated / "m"))
    assert local is not None
    config = provider.cli_config(local)
    text = config.read_text()
    assert 'include = ["registry.opentofu.org/hashicorp/aws"]' in text
    assert 'exclude = ["registry.opentofu.org/hashicorp/aws"]' in text
    link = isolated / "cache/infra/provider-mirror/registry.opentofu.org/hashicorp/aws/5.100.0"
    assert (link / provider.os_arch()).resolve() == folder.resolve()
    monkeypatch.setattr(provider.paths, "out_dir", lambda: isolated / "out")
    root, found, env = provider.prepare("t", str(isolated / "m"))
    assert found == local and env == {"TF_CLI_CONFIG_FILE": str(config)}
    assert (root / "envs").is_dir()


def test_the_shim_relaxes_only_the_copy(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provider.paths, "out_dir", lambda: isolated / "out")
    mirror(isolated / "m", "5.100.0")
    local = provider.find(str(isolated / "m"))
    root = provider.workspace("t", local)
    shims = sorted(p.parent.name for p in root.rglob(provider.SHIM_FILE))
    assert len(shims) == len(list(tf.TERRAFORM_DIR.rglob("versions.tf")))
    assert 'version = "5.100.0"' in (root / "modules/eks" / provider.SHIM_FILE).read_text()
    assert not list(tf.TERRAFORM_DIR.rglob(provider.SHIM_FILE))
    line = provider.ran_against("validate", local)
    assert "5.100.0" in line and provider.pinned_version() in line


def test_known_differences_skip_values_unknown_after_apply() -> None:
    before = {"a": 1, "b": {"c": [1, 2]}, "d": "x", "e": "y"}
    after = {"a": 1, "b": {"c": [1, 3]}, "d": None, "e": None}
    assert list(drift.known_diffs(before, after, {"d": True})) == ["b.c.1", "e"]


def rc(address: str, actions: list[str], **change: object) -> dict[str, object]:
    return {
        "address": address,
        "type": address.split(".")[-2],
        "change": {"actions": actions, **change},
    }


GAP = ["access_config", 0, "bootstrap_cluster_creator_admin_permissions"]
CLUSTER = rc("module.eks.aws_eks_cluster.this", ["delete", "create"], replace_paths=[GAP])
OIDC = rc(
    "module.eks.aws_iam_openid_connect_provider.eks",
    ["delete", "create"],
    replace_paths=[["url"]],
    after_unknown={"url": True},
)
VPC = rc(
    "aws_vpc.this",
    ["update"],
    before={"cidr_block": "10.0.0.0/16"},
    after={"cidr_block": "10.1.0.0/16"},
)


def test_only_known_gaps_and_what_follows_them_are_tolerated() -> None:
    noop = rc("aws_subnet.a", ["no-op"])
    tolerated, unexpected = drift.classify(
        drift.changes({"resource_changes": [CLUSTER, OIDC, noop]})
    )
    assert unexpected == []
    assert "access_config.0.bootstrap_cluster_creator_admin_permissions (moto" in tolerated[0]
    assert tolerated[1].endswith("follows another change (url known after apply)")


def test_other_drift_fails_and_takes_its_followers_along() -> None:
    tolerated, unexpected = drift.classify(drift.changes({"resource_changes": [VPC, OIDC]}))
    assert tolerated == []
    assert unexpected[0] == "aws_vpc.this update: cidr_block"
    assert "follows another change" in unexpected[1]


def test_the_emulator_overrides_point_everything_at_moto(tmp_path: Path) -> None:
    text = emulated.provider_override("http://127.0.0.1:5000")
    assert text.count("http://127.0.0.1:5000") == len(emulated.SERVICES)
    assert "skip_metadata_api_check     = true" in text
    remote = emulated.remote_state_override(
        tf.ENVS_DIR / "dev" / "cluster", "http://127.0.0.1:5000"
    )
    assert remote is not None
    config = json.loads(json.dumps(remote))["data"]["terraform_remote_state"]["network"]["config"]
    assert config["bucket"] == "${var.state_bucket}" and config["use_path_style"] is True
    assert emulated.remote_state_override(tf.ENVS_DIR / "dev" / "network", "x") is None
    env = emulated.isolated_env({})
    assert env["AWS_CONFIG_FILE"] == "/dev/null" and env["HTTPS_PROXY"].startswith("http://127.")


def test_state_addresses_of_data_sources() -> None:
    assert emulated.is_data("module.eks.module.kms.data.aws_region.current")
    assert emulated.is_data("data.aws_s3_bucket.state")
    assert not emulated.is_data("module.data.aws_s3_bucket.x")
    assert not emulated.is_data("aws_s3_bucket.data")
