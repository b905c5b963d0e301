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


def test_none_found_is_said_in_one_sentence(isolated: Path) -> None:
    assert provider.find(str(isolated / "empty")) is None
    sentence = provider.not_found_sentence(str(isolated / "empty"))
    assert sentence.count(".") <= 3 and "installs it from the registry" in sentence


def test_the_cli_config_serves_the_binary_to_opentofu(isolated: Path) -> None:
    folder = mirror(isolated / "m", "5.100.0")
    local = provider.find(str(isolated / "m"))
    assert local is not None
    config = provider.cli_config(local)
    text = config.read_text()
    assert 'include = ["registry.opentofu.org/hashicorp/aws"]' in text
    assert 'exclude = ["registry.opentofu.org/hashicorp/aws"]' in text
    link = isolated / "cache/infra/provider-mirror/registry.opentofu.org/hashicorp/aws/5.100.0"
    assert (link / provider.os_arch()).resolve() == folder.resolve()
    assert provider.environment(local) == {"TF_CLI_CONFIG_FILE": str(config)}
    assert provider.environment(None) == {}


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


def test_plan_diff_lists_attribute_paths() -> None:
    before = {"a": 1, "b": {"c": [1, 2]}, "d": "x"}
    after = {"a": 1, "b": {"c": [1, 3]}, "d": None}
    assert list(drift.diff_paths(before, after, {"d": True})) == ["b.c.1", "d"]


def test_only_known_gaps_are_tolerated() -> None:
    gap = "access_config.0.bootstrap_cluster_creator_admin_permissions"
    flag = "bootstrap_cluster_creator_admin_permissions"
    plan = {
        "resource_changes": [
            {"address": "module.eks.aws_eks_cluster.this", "type": "aws_eks_cluster",
             "change": {"actions": ["delete", "create"],
                        "before": {"access_config": [{flag: None}]},
                        "after": {"access_config": [{flag: False}]}}},
            {"address": "aws_vpc.this", "type": "aws_vpc",
             "change": {"actions": ["update"], "before": {"cidr_block": "10.0.0.0/16"},
                        "after": {"cidr_block": "10.1.0.0/16"}}},
            {"address": "aws_subnet.a", "type": "aws_subnet", "change": {"actions": ["no-op"]}},
        ]
    }  # fmt: skip
    tolerated, unexpected = drift.classify(drift.changes(plan))
    assert len(tolerated) == 1 and gap in tolerated[0] and "moto" in tolerated[0]
    assert unexpected == ["aws_vpc.this update: cidr_block"]


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
