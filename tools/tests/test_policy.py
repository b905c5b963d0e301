"""``hello_platform.pipeline.policy``, Rego side: opa and conftest calls and their reports,
with fake binaries; then the real pinned opa and conftest on the repository's policies and on
the deliberately bad inputs of ``data/policy``, so that every rule is known to be able to fail.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from hello_platform import cli
from hello_platform.core import catalogue
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import helm, policy
from hello_platform.pipeline.policy import cli as policy_cli
from hello_platform.pipeline.policy import rego, run
from hello_platform.toolchain import resolve

DATA = Path(__file__).parent / "data" / "policy"


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def conftest_json(*results: dict[str, object]) -> str:
    return json.dumps([{"filename": "m.yaml", **r} for r in results])


def denial(rule: str, msg: str) -> dict[str, object]:
    return {"msg": msg, "metadata": {"id": rule, "query": "data.k.deny"}}


def rule_ids(findings: list[policy.Finding]) -> set[str]:
    return {f.rule for f in findings}


# ------------------------------------------------------------------------ fakes: opa


def test_static_check_names_unformatted_files(tmp_path: Path) -> None:
    opa = script(
        tmp_path / "opa",
        'if [ "$1" = fmt ]; then echo "$PWD/policies/kubernetes/x.rego"; '
        "echo 'unexpected diff' >&2; exit 2; fi",
    )
    with pytest.raises(PlatformError, match=r"not formatted: .*x\.rego.*opa fmt -w"):
        rego.static_check(opa, tmp_path)


def test_static_check_quotes_compile_errors(tmp_path: Path) -> None:
    opa = script(
        tmp_path / "opa",
        'if [ "$1" = check ]; then echo "1 error occurred: a.rego:4: '
        'rego_compile_error: assigned var y unused" >&2; exit 1; fi',
    )
    with pytest.raises(PlatformError, match=r"check --strict failed: .*assigned var y unused"):
        rego.static_check(opa, tmp_path)


def test_static_check_missing_opa(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match=r"does not exist.*nox -s tools"):
        rego.static_check(tmp_path / "nope", tmp_path)


def test_unit_tests_count_and_failures(tmp_path: Path) -> None:
    ok = [{"package": "data.k.a_test", "name": "test_ok"}]
    out = tmp_path / "out.json"
    out.write_text(json.dumps(ok))
    assert rego.unit_tests(script(tmp_path / "opa", f"cat {out}"), tmp_path) == 1
    out.write_text(json.dumps([*ok, {"package": "data.k.a_test", "name": "test_no", "fail": True}]))
    with pytest.raises(PlatformError, match=r"1 of 2 Rego tests failed: k\.a_test\.test_no"):
        rego.unit_tests(script(tmp_path / "opa", f"cat {out}; exit 2"), tmp_path)


def test_unit_tests_without_results_fail(tmp_path: Path) -> None:
    opa = script(tmp_path / "opa", "echo 'rego_parse_error: oops' >&2; exit 1")
    with pytest.raises(PlatformError, match="opa test failed: rego_parse_error: oops"):
        rego.unit_tests(opa, tmp_path)


# ------------------------------------------------------------------- fakes: conftest


def test_conftest_reads_ids_from_the_metadata(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text(
        conftest_json(
            {"namespace": "kubernetes.a", "successes": 5},
            {"namespace": "kubernetes.b", "successes": 3, "failures": [denial("HP001", "a: no")]},
        )
    )
    fake = script(
        tmp_path / "conftest",
        f'echo "$@" > {tmp_path}/args; for last; do :; done; sed "s#m.yaml#$last#g" {out}; exit 1',
    )
    verdict = rego.conftest_text(fake, "kind: Pod\n", "kubernetes", label="chart (profile x)")
    assert verdict == rego.Verdict(8, [policy.Finding("chart (profile x)", "HP001", "a: no")])
    args = (tmp_path / "args").read_text()
    assert "--all-namespaces" in args and "--output json" in args
    assert "policies/kubernetes" in args


def test_conftest_refuses_a_denial_without_an_id(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    failures = [{"msg": "HP001: no", "metadata": {"query": "data.k.deny"}}]
    out.write_text(conftest_json({"namespace": "k", "successes": 0, "failures": failures}))
    fake = script(tmp_path / "conftest", f"cat {out}; exit 1")
    with pytest.raises(PlatformError, match=r"package k denied .* without a rule id: HP001: no"):
        rego.conftest(fake, [tmp_path / "m.yaml"], "kubernetes")


def test_conftest_names_a_file_it_cannot_parse(tmp_path: Path) -> None:
    fake = script(tmp_path / "conftest", "echo 'Error: yaml: line 3: bad' >&2; exit 1")
    verdict = rego.conftest(fake, [tmp_path / "m.yaml"], "kubernetes")
    assert [(f.rule, f.message) for f in verdict.findings] == [
        ("PARSE", "cannot be parsed: Error: yaml: line 3: bad")
    ]


def test_chart_profiles_get_a_line_and_findings_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok = tmp_path / "ok.json"
    ok.write_text(conftest_json({"namespace": "k", "successes": 4}))
    bad = tmp_path / "bad.json"
    bad.write_text(
        conftest_json({"namespace": "k", "successes": 3, "failures": [denial("X1", "no")]})
    )
    conftest = script(
        tmp_path / "conftest",
        f'for last; do :; done; if grep -q BAD "$last"; then sed "s#m.yaml#$last#g" {bad}; exit 1; '
        f'fi; sed "s#m.yaml#$last#g" {ok}',
    )
    monkeypatch.setattr(
        helm,
        "render",
        lambda _h, _svc, *, values_files, sets, kube_version: "BAD" if len(sets) > 1 else "ok",
    )
    charts = run.Charts(conftest, tmp_path / "helm")
    run.chart_profiles(charts, catalogue.service(), None)
    assert charts.lines == [
        "deploy/helm/hello (profile default): PASS (4 passed, 0 failed)",
        "deploy/helm/hello (profile local): PASS (4 passed, 0 failed)",
        "deploy/helm/hello (profile eks): PASS (4 passed, 0 failed)",
        "deploy/helm/hello (profile features): FAIL (3 passed, 1 failed)",
        "deploy/helm/hello (profile requests): PASS (4 passed, 0 failed)",
        "deploy/helm/hello (profile canary): PASS (4 passed, 0 failed)",
        "deploy/helm/hello (profile blueGreen): PASS (4 passed, 0 failed)",
    ]
    assert charts.findings == [policy.Finding("deploy/helm/hello (profile features)", "X1", "no")]
    assert set(charts.rendered) == {line.split(":")[0] for line in charts.lines}


def test_cli_has_the_policy_command() -> None:
    args = cli.build_parser().parse_args(["policy", "--profile", "eks"])
    assert args.profile == ["eks"]
    assert args.func is policy_cli.run


# ------------------------------------------------- the real pinned opa and conftest


def test_repository_policies_are_clean_and_tested() -> None:
    opa = resolve("opa")
    rego.static_check(opa)
    assert rego.unit_tests(opa) >= 80


def test_every_deny_rule_carries_its_id_in_metadata() -> None:
    """Each deny rule (every body) has # METADATA with a title, a description and
    custom.id: the gate's rule ids come from there, never from the message. (opa check
    also refuses a missing custom.id: the type checker knows each rule's annotations.)"""
    opa = resolve("opa")
    checked = 0
    for path in sorted(policy.POLICY_DIR.rglob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        done = subprocess.run(
            [opa, "parse", "--format", "json", path], capture_output=True, text=True, check=True
        )
        rules = json.loads(done.stdout).get("rules", [])
        for n, rule in enumerate(r for r in rules if r["head"].get("name") == "deny"):
            notes = (rule.get("annotations") or [{}])[0]
            where = f"{path.name}, deny rule {n + 1}"
            assert re.fullmatch(r"[A-Z]{2}\d{3}", str(notes.get("custom", {}).get("id"))), where
            assert notes.get("title") and notes.get("description"), where
            checked += 1
    assert checked >= 30


def test_bad_manifests_are_denied_for_each_seed_defect() -> None:
    found = rego.conftest(
        resolve("conftest"), [DATA / "kubernetes/bad-manifests.yaml"], "kubernetes"
    ).findings
    assert {"HP001", "HP007", "HP020", "HP030", "HP050", "HP051"} <= rule_ids(found)
    by_rule = {f.rule: f.message for f in found}
    assert by_rule["HP001"].startswith("Deployment/hello container 'hello' must run as non-root")
    assert "mutable tag 'latest' (x:latest)" in by_rule["HP007"]
    assert by_rule["HP020"].startswith("HorizontalPodAutoscaler/hello uses autoscaling/v2beta2")
    assert "annotation 'prometheus_io_path'" in by_rule["HP030"]
    assert not any("prometheus.io/scrape'" in f.message for f in found)
    assert by_rule["HP050"].startswith("Ingress/hello is internet-facing without TLS")
    assert by_rule["HP051"].startswith("Ingress/hello routes /metrics (path '/' Prefix)")


def test_every_terraform_rule_fires_on_the_bad_module() -> None:
    found = rego.conftest(
        resolve("conftest"), [DATA / "terraform/bad/main.tf"], "terraform", parser="hcl2"
    ).findings
    assert rule_ids(found) == {f"TF{n:03d}" for n in range(1, 11)}
    assert all(f.file.endswith("bad/main.tf") for f in found)


def test_every_terraform_rule_fires_on_the_bad_plan() -> None:
    found = rego.conftest(resolve("conftest"), [DATA / "terraform/bad-plan.json"], "terraform")
    assert rule_ids(found.findings) == {f"TF{n:03d}" for n in range(1, 11)}


def test_every_argocd_rule_fires_on_the_bad_applications() -> None:
    found = rego.conftest(
        resolve("conftest"), [DATA / "argocd/bad-applications.yaml"], "argocd"
    ).findings
    assert rule_ids(found) == {"AC001", "AC002", "AC003"}
    assert any("'in-app-namespace' must be in namespace argocd" in f.message for f in found)


def test_unparsable_hcl_is_named_with_its_line_and_others_still_run() -> None:
    found = rego.conftest(
        resolve("conftest"),
        [DATA / "terraform/unparsable/main.tf", DATA / "terraform/bad/main.tf"],
        "terraform",
        parser="hcl2",
    ).findings
    parse = [f for f in found if f.rule == "PARSE"]
    assert len(parse) == 1 and parse[0].file.endswith("unparsable/main.tf")
    assert parse[0].message.startswith("cannot be parsed: line 3: Invalid expression")
    assert "TF001" in rule_ids(found)


def test_the_gate_fails_on_every_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole gate over ``data/policy`` (checkov, tested on its own in
    test_policy_gate.py, lives in another venv: left out here)."""
    monkeypatch.setattr(run, "checkov_binary", lambda: Path("checkov"))
    monkeypatch.setattr(run, "checkov", lambda *_a, **_k: [])
    with pytest.raises(PlatformError, match=r"the policy gate found \d+ violation\(s\) in 8 file"):
        policy.gate([str(DATA)])
    report = capsys.readouterr().out
    for rule in ["AC001", "AC003", "HP001", "HP020", "TF001", "TF008", "TF010", "PARSE"]:
        assert f"  {rule} [" in report
