"""The infra glue: argument handling, provider detection, summaries, and the real files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from hello_platform import cli
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.infra import checks
from hello_platform.pipeline.infra import cli as infra_cli
from hello_platform.pipeline.infra import tofu as tf
from hello_platform.toolchain import resolve


def script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_cli_has_the_infra_command() -> None:
    args = cli.build_parser().parse_args(["infra", "plan", "--env", "dev", "--layer", "network"])
    assert (args.action, args.env, args.layer) == ("plan", "dev", ["network"])


def test_plan_refuses_without_a_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with pytest.raises(PlatformError, match="need an AWS profile"):
        infra_cli.aws_profile(None)
    monkeypatch.setenv("AWS_PROFILE", "dev-admin")
    assert infra_cli.aws_profile(None) == "dev-admin"
    assert infra_cli.aws_profile("other") == "other"


def test_emulator_refuses_a_single_layer() -> None:
    args = cli.build_parser().parse_args(["infra", "apply", "--emulator", "--layer", "network"])
    with pytest.raises(PlatformError, match="--emulator goes with"):
        args.func(args)


def test_apply_refuses_before_touching_tofu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    args = cli.build_parser().parse_args(["infra", "apply"])
    with pytest.raises(PlatformError, match="AWS profile"):
        args.func(args)


def test_unknown_environment_is_refused() -> None:
    args = cli.build_parser().parse_args(["infra", "fmt", "--env", "prod"])
    with pytest.raises(PlatformError, match="unknown environment 'prod'"):
        args.func(args)


def test_init_tells_a_missing_provider_from_other_errors(tmp_path: Path) -> None:
    offline = script(
        tmp_path / "tofu",
        'echo "Error: Failed to resolve provider packages"; '
        'echo "could not connect to registry.opentofu.org: lookup failed"; exit 1',
    )
    with pytest.raises(tf.ProviderUnavailableError) as missing:
        tf.init(offline, tmp_path)
    assert str(missing.value) == "registry.opentofu.org is out of reach"
    broken = script(tmp_path / "tofu2", 'echo "Error: Unsupported block type"; echo "x"; exit 1')
    with pytest.raises(PlatformError, match=r"tofu init failed in .*: Error: Unsupported block"):
        tf.init(broken, tmp_path)


def test_offline_validate_falls_back_or_fails_when_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unavailable(*_a: object, **_k: object) -> None:
        raise tf.ProviderUnavailableError("registry.opentofu.org is out of reach")

    ran: list[Path] = []
    monkeypatch.setattr(checks, "validate", unavailable)
    monkeypatch.setattr(infra_cli, "provider_free_checks", lambda tofu, _opts: ran.append(tofu))
    infra_cli.offline_capable(tmp_path / "tofu", "validate", checks.Options("dev"))
    out = capsys.readouterr().out
    assert out.count(".") >= 1 and "neither on this machine nor installable" in out
    assert ran == [tmp_path / "tofu"]
    with pytest.raises(PlatformError, match="tofu validate needs the hashicorp/aws provider"):
        infra_cli.offline_capable(
            tmp_path / "tofu", "validate", checks.Options("dev", require=True)
        )


def test_tofu_env_drops_a_missing_cli_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "missing.tfrc"))
    assert "TF_CLI_CONFIG_FILE" not in tf.tofu_env()
    real = tmp_path / "real.tfrc"
    real.write_text("")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(real))
    assert tf.tofu_env()["TF_CLI_CONFIG_FILE"] == str(real)


def test_plan_summary_counts_actions() -> None:
    plan = {
        "resource_changes": [
            {"change": {"actions": ["create"]}},
            {"change": {"actions": ["create"]}},
            {"change": {"actions": ["delete", "create"]}},
            {"change": {"actions": ["no-op"]}},
        ]
    }
    assert "2 to create, 1 to replace" in infra_cli.summarize("network", plan)
    assert "no changes" in infra_cli.summarize("state", {"resource_changes": []})


def test_backend_hcl_parser(tmp_path: Path) -> None:
    good = tmp_path / "backend.hcl"
    good.write_text('# c\nbucket = "b" # trailing\nuse_lockfile = true\n')
    assert tf.parse_backend_hcl(good) == {"bucket": "b", "use_lockfile": True}
    bad = tmp_path / "bad.hcl"
    bad.write_text('bucket = "b"\nendpoints = { s3 = "x" }\n')
    with pytest.raises(PlatformError, match=r"bad.hcl:2: expected key"):
        tf.parse_backend_hcl(bad)


# ------------------------------------------------------------- the repository's files


def test_every_layer_has_its_own_state_key() -> None:
    keys = [tf.backend_key(tf.layer_dir("dev", layer) / "backend.tf") for layer in tf.LAYERS]
    assert keys == [f"dev/{layer}.tfstate" for layer in tf.LAYERS]


def test_dev_backend_locks_natively_and_encrypts() -> None:
    settings = tf.parse_backend_hcl(tf.ENVS_DIR / "dev" / "backend.hcl")
    assert settings["use_lockfile"] is True and settings["encrypt"] is True
    assert "dynamodb_table" not in settings


def test_every_module_has_the_standard_files_and_a_plan_test() -> None:
    names = {m.name for m in tf.modules()}
    assert names == {"kms-key", "network", "eks", "ecr", "ci-oidc", "state"}
    for module in tf.modules():
        for f in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (module / f).is_file(), f"{module.name}/{f}"
        tests = list((module / "tests").glob("*.tftest.hcl"))
        assert len(tests) == 1, module.name
        text = tests[0].read_text()
        assert "mock_provider" in text and "command = plan" in text


def test_envs_pin_the_current_aws_major() -> None:
    for layer in tf.LAYERS:
        text = (tf.layer_dir("dev", layer) / "versions.tf").read_text()
        assert 'source = "hashicorp/aws"' in text
        assert 'version = "6.' in text


def test_the_sources_are_formatted() -> None:
    infra_cli.fmt(resolve("tofu"))


def test_provider_free_checks_pass_on_the_repository() -> None:
    schema = Path(__file__).parent / "data" / "infra_schema" / "missing.schema.json"
    infra_cli.provider_free_checks(resolve("tofu"), checks.Options("dev", schema=str(schema)))


def test_validate_needs_no_profile() -> None:
    args = argparse.Namespace(
        action="validate",
        env="dev",
        layer=None,
        profile=None,
        require_providers=False,
        auto_approve=False,
        bootstrap=False,
        emulator=False,
        provider_mirror=None,
        schema=None,
    )
    assert infra_cli._main(args) == 0


def test_validate_errors_carry_file_and_line(tmp_path: Path) -> None:
    layer = tmp_path / "envs" / "dev" / "cluster"
    layer.mkdir(parents=True)
    report = {
        "valid": False,
        "diagnostics": [
            {"severity": "warning", "summary": "Deprecated"},
            {
                "severity": "error",
                "summary": "Inconsistent conditional result types",
                "detail": "The 'true' tuple has length 2,\n but the 'false' tuple has length 1.",
                "range": {"filename": "../../../modules/kms-key/main.tf", "start": {"line": 42}},
            },
            {"severity": "error", "summary": "Missing required provider"},
        ],
    }
    assert checks.diagnostics(layer, json.dumps(report), tmp_path) == [
        "modules/kms-key/main.tf:42: Inconsistent conditional result types: The 'true' tuple "
        "has length 2, but the 'false' tuple has length 1.",
        "envs/dev/cluster: Missing required provider",
    ]
    assert checks.folders(tmp_path, "dev")[-4:] == [
        tmp_path / "envs" / "dev" / layer for layer in tf.LAYERS
    ]
