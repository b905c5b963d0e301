"""The policy gate: classification, findings, and each rule firing on its bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import policy_gate
from hello_platform.toolchain import resolve

DATA = Path(__file__).parent / "data" / "policy"


def rule_ids(findings: list[policy_gate.Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_default_targets_cover_every_kind() -> None:
    targets = policy_gate.classify(None)
    assert targets.tf_files and targets.tf_dirs
    assert targets.charts == [paths.REPO_ROOT / "deploy/helm/hello"]
    assert any(f.name == "Dockerfile" for f in targets.dockerfiles)
    assert any(f.name == "ci.yml" for f in targets.workflows)
    # the chart's own YAML is rendered, never checked raw
    assert not any("deploy/helm" in str(f) for f in targets.manifests)


def test_given_paths_are_sorted_by_kind() -> None:
    targets = policy_gate.classify([str(DATA)])
    assert {f.name for f in targets.plans} == {"bad-plan.json"}
    assert {f.name for f in targets.argocd} == {"bad-applications.yaml", "unparsable.yaml"}
    assert {f.parent.name for f in targets.tf_files} == {"bad", "unparsable"}


def test_missing_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match="no such file or folder"):
        policy_gate.classify([str(tmp_path / "nope")])


def test_unparsable_yaml_and_json_are_named_with_their_line(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"resource_changes": [\n  1,\n')
    targets = policy_gate.classify([str(DATA / "argocd"), str(plan)])
    found = policy_gate.parse_errors(targets)
    by_file = {Path(f.file).name: f for f in found}
    assert by_file["unparsable.yaml"].rule == "PARSE"
    assert by_file["unparsable.yaml"].message.startswith("line 6: not valid YAML")
    assert by_file["plan.json"].message.startswith("line 3: not valid JSON")
    assert [f.name for f in targets.argocd] == ["bad-applications.yaml"]
    assert not targets.plans


def test_split_rule() -> None:
    assert policy_gate.split_rule("TF001: open") == ("TF001", "open")
    assert policy_gate.split_rule("no id here") == ("REGO", "no id here")


def test_findings_are_grouped_by_file_then_rule() -> None:
    findings = [
        policy_gate.Finding("b.tf", "TF002", "two"),
        policy_gate.Finding("a.tf", "TF009", "nine", "rego"),
        policy_gate.Finding("a.tf", "CKV_AWS_79", "imds", "checkov"),
        policy_gate.Finding("a.tf", "TF009", "nine", "rego"),
    ]
    assert policy_gate.format_findings(findings) == [
        "a.tf",
        "  CKV_AWS_79 [checkov] imds",
        "  TF009 [rego] nine",
        "b.tf",
        "  TF002 [rego] two",
    ]
    assert "3 violation(s) in 2 file(s)" in str(policy_gate.failure(findings[:3]))


# ------------------------------------------------------ real conftest and tflint


def test_every_terraform_rule_fires_on_the_bad_module() -> None:
    found = policy_gate.rego(
        resolve("conftest"),
        [DATA / "terraform/bad/main.tf"],
        policy_gate.POLICY_DIR / "terraform",
        policy_gate.TERRAFORM_HCL,
        parser="hcl2",
    )
    assert rule_ids(found) == {f"TF{n:03d}" for n in range(1, 11)}
    assert all(f.file.endswith("bad/main.tf") for f in found)


def test_every_plan_rule_fires_on_the_bad_plan() -> None:
    found = policy_gate.rego(
        resolve("conftest"),
        [DATA / "terraform/bad-plan.json"],
        policy_gate.POLICY_DIR / "terraform",
        policy_gate.TERRAFORM_PLAN,
    )
    assert rule_ids(found) == {f"TF{n:03d}" for n in range(1, 11)}


def test_every_argocd_rule_fires_on_the_bad_applications() -> None:
    found = policy_gate.rego(
        resolve("conftest"),
        [DATA / "argocd/bad-applications.yaml"],
        policy_gate.POLICY_DIR / "argocd",
        policy_gate.ARGOCD,
    )
    assert rule_ids(found) == {"AC001", "AC002", "AC003"}
    assert any("'in-app-namespace' must be in namespace argocd" in f.message for f in found)


def test_unparsable_hcl_is_named_with_its_line_and_others_still_run() -> None:
    found = policy_gate.rego(
        resolve("conftest"),
        [DATA / "terraform/unparsable/main.tf", DATA / "terraform/bad/main.tf"],
        policy_gate.POLICY_DIR / "terraform",
        policy_gate.TERRAFORM_HCL,
        parser="hcl2",
    )
    parse = [f for f in found if f.rule == "PARSE"]
    assert len(parse) == 1 and parse[0].file.endswith("unparsable/main.tf")
    assert parse[0].message.startswith("cannot be parsed: line 3: Invalid expression")
    assert "TF001" in rule_ids(found)


def test_tflint_finds_the_bad_module_and_passes_the_real_ones() -> None:
    tflint = resolve("tflint")
    found = policy_gate.tflint(tflint, [DATA / "terraform/bad"])
    assert {"terraform_typed_variables", "terraform_documented_variables"} <= rule_ids(found)
    assert all(re.match(r"line \d+: ", f.message) for f in found)
    assert policy_gate.tflint(tflint, [paths.REPO_ROOT / "infra/terraform"]) == []


def test_repository_terraform_passes_rego() -> None:
    targets = policy_gate.classify([str(paths.REPO_ROOT / "infra/terraform")])
    found = policy_gate.rego(
        resolve("conftest"),
        targets.tf_files,
        policy_gate.POLICY_DIR / "terraform",
        policy_gate.TERRAFORM_HCL,
        parser="hcl2",
    )
    assert found == []


# ---------------------------------------------------------------------- checkov


def test_checkov_findings_map_back_to_the_original_files(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    report = {
        "check_type": "dockerfile",
        "results": {
            "failed_checks": [
                {
                    "check_id": "CKV_DOCKER_3",
                    "check_name": "Ensure that a user for the container has been created",
                    "file_path": "/docker/0/Dockerfile",
                    "file_abs_path": "STAGED",
                    "file_line_range": [1, 1],
                    "resource": "Dockerfile.",
                }
            ],
            "parsing_errors": [],
        },
    }
    # A fake checkov: prints two JSON documents (one per -d root), as the real one does.
    fake = tmp_path / "checkov"
    fake.write_text(
        "#!/bin/sh\n"
        'for a; do case "$prev" in -d) root="$a";; esac; prev="$a"; done\n'
        f"python3 - \"$root\" <<'EOF'\n"
        "import json, sys\n"
        f"r = json.loads({json.dumps(json.dumps(report))})\n"
        "r['results']['failed_checks'][0]['file_abs_path'] = sys.argv[1] + '/docker/0/Dockerfile'\n"
        "print(json.dumps({'check_type': 'terraform', 'results': {'failed_checks': []}}))\n"
        "print(json.dumps([r]))\n"
        "EOF\n"
    )
    fake.chmod(0o755)
    targets = policy_gate.Targets(dockerfiles=[dockerfile])
    found = policy_gate.checkov(fake, targets, {})
    assert found == [
        policy_gate.Finding(
            str(dockerfile),
            "CKV_DOCKER_3",
            "line 1: Dockerfile.: Ensure that a user for the container has been created",
            "checkov",
        )
    ]


def test_checkov_without_a_report_fails_in_one_sentence(tmp_path: Path) -> None:
    fake = tmp_path / "checkov"
    fake.write_text("#!/bin/sh\necho 'Traceback: boom' >&2\nexit 2\n")
    fake.chmod(0o755)
    with pytest.raises(PlatformError, match="checkov gave no report: Traceback: boom"):
        policy_gate.checkov(fake, policy_gate.Targets(dockerfiles=[fake]), {})


def test_every_checkov_skip_has_a_reason() -> None:
    lines = policy_gate.CHECKOV_CONFIG.read_text().splitlines()
    skips = [i for i, line in enumerate(lines) if re.match(r"\s+- CK", line)]
    assert skips, "the config skips nothing?"
    for i in skips:
        j = i - 1
        while re.match(r"\s+- CK", lines[j]):
            j -= 1  # checks sharing one reason
        assert lines[j].strip().startswith("#") and len(lines[j].strip()) > 10, lines[i]


def test_json_stream_reads_concatenated_documents() -> None:
    text = '{"a": 1}\n[{"b": 2}, {"c": 3}]\n'
    assert policy_gate.json_stream(text) == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_the_gate_refuses_bad_paths_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hello_platform import cli

    assert cli.main(["policy", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no such file or folder")
