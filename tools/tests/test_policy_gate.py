"""The policy gate's plumbing: targets by kind, findings and their report, checkov, tflint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import policy
from hello_platform.pipeline.policy import checkov, targets
from hello_platform.toolchain import resolve

DATA = Path(__file__).parent / "data" / "policy"


def rule_ids(findings: list[policy.Finding]) -> set[str]:
    return {f.rule for f in findings}


def test_default_targets_cover_every_kind() -> None:
    found = policy.classify(None)
    assert found.tf_files and found.tf_dirs
    assert found.charts == [paths.REPO_ROOT / "deploy/helm/hello"]
    assert any(f.name == "Dockerfile" for f in found.dockerfiles)
    assert any(f.name == "ci.yml" for f in found.workflows)
    # the chart's own YAML is rendered, never checked raw
    assert not any("deploy/helm" in str(f) for f in found.manifests)
    assert not found.unparsable


def test_given_paths_are_sorted_by_kind() -> None:
    found = policy.classify([str(DATA)])
    assert {f.name for f in found.plans} == {"bad-plan.json"}
    assert {f.name for f in found.argocd} == {"bad-applications.yaml"}
    assert {f.name for f in found.manifests} == {"bad-manifests.yaml"}
    assert {f.parent.name for f in found.tf_files} == {"bad", "unparsable"}


def test_argo_manifests_are_known_by_their_api_version(tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\n")
    other = tmp_path / "other.json"
    other.write_text('{"not": "a plan"}')
    found = policy.classify([str(tmp_path)])
    assert found.argocd == [app] and not found.manifests and not found.plans


def test_missing_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match="no such file or folder"):
        policy.classify([str(tmp_path / "nope")])


def test_unparsable_yaml_and_json_are_named_with_their_line(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"resource_changes": [\n  1,\n')
    found = policy.classify([str(DATA / "argocd"), str(plan)])
    by_file = {Path(f.file).name: f for f in found.unparsable}
    assert by_file["unparsable.yaml"].rule == "PARSE"
    assert by_file["unparsable.yaml"].message.startswith("line 6: not valid YAML")
    assert by_file["plan.json"].message.startswith("line 3: not valid JSON")
    assert [f.name for f in found.argocd] == ["bad-applications.yaml"]
    assert not found.plans


def test_outermost_folders() -> None:
    a, b, c = Path("/r/a"), Path("/r/a/b"), Path("/r/c")
    assert targets.outermost([b, a, c, a]) == [a, c]


def test_findings_are_grouped_by_file_then_rule() -> None:
    findings = [
        policy.Finding("b.tf", "TF002", "two"),
        policy.Finding("a.tf", "TF009", "nine", "rego"),
        policy.Finding("a.tf", "CKV_AWS_79", "imds", "checkov"),
        policy.Finding("a.tf", "TF009", "nine", "rego"),
    ]
    assert policy.format_findings(findings) == [
        "a.tf",
        "  CKV_AWS_79 [checkov] imds",
        "  TF009 [rego] nine",
        "b.tf",
        "  TF002 [rego] two",
    ]
    assert "3 violation(s) in 2 file(s)" in str(policy.failure(findings))


# ----------------------------------------------------------------- real tflint


def test_tflint_finds_the_bad_module_and_passes_the_real_ones() -> None:
    tflint = resolve("tflint")
    found = policy.tflint(tflint, [DATA / "terraform/bad"])
    assert {"terraform_typed_variables", "terraform_documented_variables"} <= rule_ids(found)
    assert all(re.match(r"line \d+: ", f.message) for f in found)
    assert policy.tflint(tflint, [paths.REPO_ROOT / "infra/terraform"]) == []


def test_repository_terraform_passes_rego() -> None:
    found = policy.classify([str(paths.REPO_ROOT / "infra/terraform")])
    verdict = policy.conftest(resolve("conftest"), found.tf_files, "terraform", parser="hcl2")
    assert verdict.findings == [] and verdict.passed > 0


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
    found = checkov.checkov(fake, policy.Targets(dockerfiles=[dockerfile]), {})
    assert found == [
        policy.Finding(
            str(dockerfile),
            "CKV_DOCKER_3",
            "line 1: Dockerfile.: Ensure that a user for the container has been created",
            "checkov",
        )
    ]


def test_checkov_scans_one_staged_root_with_terraform_trees_whole(tmp_path: Path) -> None:
    """With several -d roots checkov 3 dropped the kubernetes report: one root holds all."""
    module = tmp_path / "tf"
    (module / "sub").mkdir(parents=True)
    (module / "main.tf").write_text('module "m" { source = "./sub" }\n')
    (module / "sub" / "main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    failed = {"check_id": "CKV_AWS_21", "check_name": "versioning", "file_line_range": [1, 1]}
    fake = tmp_path / "checkov"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {tmp_path}/args\n'
        'for a; do case "$prev" in -d) root="$a";; esac; prev="$a"; done\n'
        'test -f "$root/terraform/0/sub/main.tf" || exit 3\n'
        f"python3 - \"$root\" <<'EOF'\n"
        "import json, sys\n"
        f"c = json.loads({json.dumps(json.dumps(failed))})\n"
        "c['resource'] = 'aws_s3_bucket.b'\n"
        "c['file_abs_path'] = sys.argv[1] + '/terraform/0/sub/main.tf'\n"
        "print(json.dumps({'check_type': 'terraform', 'results': {'failed_checks': [c]}}))\n"
        "EOF\n"
    )
    fake.chmod(0o755)
    found = checkov.checkov(
        fake, policy.Targets(tf_files=[module / "main.tf", module / "sub" / "main.tf"]), {}
    )
    assert (tmp_path / "args").read_text().count("-d ") == 1
    assert found == [
        policy.Finding(
            f"{module}/sub/main.tf", "CKV_AWS_21", "line 1: aws_s3_bucket.b: versioning", "checkov"
        )
    ]


def test_checkov_without_a_report_fails_in_one_sentence(tmp_path: Path) -> None:
    fake = tmp_path / "checkov"
    fake.write_text("#!/bin/sh\necho 'Traceback: boom' >&2\nexit 2\n")
    fake.chmod(0o755)
    with pytest.raises(PlatformError, match="checkov gave no report: Traceback: boom"):
        checkov.checkov(fake, policy.Targets(dockerfiles=[fake]), {})


def test_every_checkov_skip_has_a_reason() -> None:
    lines = checkov.CHECKOV_CONFIG.read_text().splitlines()
    skips = [i for i, line in enumerate(lines) if re.match(r"\s+- CK", line)]
    assert skips, "the config skips nothing?"
    for i in skips:
        j = i - 1
        while re.match(r"\s+- CK", lines[j]):
            j -= 1  # checks sharing one reason
        assert lines[j].strip().startswith("#") and len(lines[j].strip()) > 10, lines[i]


def test_checkov_keeps_the_checks_the_terraform_rules_overlap() -> None:
    """policies/terraform/aws.rego names the stock checks that judge its controls too;
    none of them may be skipped."""
    import yaml

    named = set(re.findall(r"CKV_AWS_\d+", (policy.POLICY_DIR / "terraform/aws.rego").read_text()))
    skipped = set(yaml.safe_load(checkov.CHECKOV_CONFIG.read_text())["skip-check"])
    assert len(named) == 7
    assert not named & skipped


def test_json_stream_reads_concatenated_documents() -> None:
    text = '{"a": 1}\n[{"b": 2}, {"c": 3}]\n'
    assert checkov.json_stream(text) == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_the_gate_refuses_bad_paths_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hello_platform import cli

    assert cli.main(["policy", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no such file or folder")
