"""``hello_platform.pipeline.policy``: the opa/conftest calls and their reports, with fake binaries;
then the real pinned opa and conftest (when provisioned) on the repository's policies and on
a deliberately bad manifest, so that the check is known to be able to fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hello_platform import cli
from hello_platform.core import catalogue
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import helm, policy

#: The seed project's defects, one manifest each: a root container on ``:latest``, a removed
#: HPA API version and a misspelt scrape annotation.
BAD_MANIFESTS = """\
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata:
  name: hello
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: hello}
  minReplicas: 2
  maxReplicas: 10
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
spec:
  selector:
    matchLabels: {app: hello}
  template:
    metadata:
      labels: {app: hello}
      annotations:
        prometheus.io/scrape: "true"
        prometheus_io_path: /metrics
    spec:
      containers:
        - name: hello
          image: x:latest
          securityContext:
            runAsNonRoot: false
"""


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def conftest_json(*results: dict[str, object]) -> str:
    return json.dumps([{"filename": "m.yaml", **r} for r in results])


# ------------------------------------------------------------------------ fakes: opa


def test_namespaces_are_the_policy_packages_without_tests() -> None:
    found = policy.namespaces()
    assert "kubernetes.containers" in found
    assert not [ns for ns in found if ns.endswith("_test")]


def test_namespaces_of_an_empty_dir_fail(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match="holds no Rego policies"):
        policy.namespaces(tmp_path)


def test_static_check_names_unformatted_files(tmp_path: Path) -> None:
    opa = script(
        tmp_path / "opa",
        'if [ "$1" = fmt ]; then echo "$PWD/policies/kubernetes/x.rego"; '
        "echo 'unexpected diff' >&2; exit 2; fi",
    )
    with pytest.raises(PlatformError, match=r"not formatted: .*x\.rego.*opa fmt -w"):
        policy.static_check(opa, tmp_path)


def test_static_check_quotes_compile_errors(tmp_path: Path) -> None:
    opa = script(
        tmp_path / "opa",
        'if [ "$1" = check ]; then echo "1 error occurred: a.rego:4: '
        'rego_compile_error: assigned var y unused" >&2; exit 1; fi',
    )
    with pytest.raises(PlatformError, match=r"check --strict failed: .*assigned var y unused"):
        policy.static_check(opa, tmp_path)


def test_static_check_missing_opa(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match=r"does not exist.*nox -s tools"):
        policy.static_check(tmp_path / "nope", tmp_path)


def test_unit_tests_count_and_failures(tmp_path: Path) -> None:
    ok = [{"package": "data.k.a_test", "name": "test_ok"}]
    out = tmp_path / "out.json"
    out.write_text(json.dumps(ok))
    assert policy.unit_tests(script(tmp_path / "opa", f"cat {out}"), tmp_path) == 1
    out.write_text(json.dumps([*ok, {"package": "data.k.a_test", "name": "test_no", "fail": True}]))
    with pytest.raises(PlatformError, match=r"1 of 2 Rego tests failed: k\.a_test\.test_no"):
        policy.unit_tests(script(tmp_path / "opa", f"cat {out}; exit 2"), tmp_path)


def test_unit_tests_without_results_fail(tmp_path: Path) -> None:
    opa = script(tmp_path / "opa", "echo 'rego_parse_error: oops' >&2; exit 1")
    with pytest.raises(PlatformError, match="opa test failed: rego_parse_error: oops"):
        policy.unit_tests(opa, tmp_path)


# ------------------------------------------------------------------- fakes: conftest


def test_conftest_counts_passes_and_denials(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text(
        conftest_json(
            {"namespace": "kubernetes.a", "successes": 5},
            {"namespace": "kubernetes.b", "successes": 3, "failures": [{"msg": "HP001: no"}]},
        )
    )
    fake = script(tmp_path / "conftest", f'echo "$@" > {tmp_path}/args; cat {out}; exit 1')
    outcome = policy.conftest(fake, "kind: Pod\n", what="profile 'x'")
    assert outcome == policy.Outcome(8, ("HP001: no",))
    args = (tmp_path / "args").read_text()
    assert "--namespace kubernetes.containers" in args
    assert "--output json" in args


def test_conftest_without_a_report_fails(tmp_path: Path) -> None:
    fake = script(tmp_path / "conftest", "echo 'Error: yaml: line 3: bad' >&2; exit 1")
    with pytest.raises(PlatformError, match="could not test profile 'x': Error: yaml"):
        policy.conftest(fake, "x: [", what="profile 'x'")


def test_report_error_names_the_profile_and_first_denials() -> None:
    report = policy.Report()
    assert report.error() is None
    report.denied["eks"] = policy.Outcome(10, ("HP001: a", "HP002: b", "HP003: c", "HP004: d"))
    report.denied["local"] = policy.Outcome(10, ("HP001: a",))
    error = report.error()
    assert error is not None
    message = str(error)
    assert "profile 'eks' violates 4 policy check(s): HP001: a; HP002: b; HP003: c (+1 more)" in (
        message
    )
    assert "also denied: profile 'local' (1)" in message


def test_check_reports_every_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tests = tmp_path / "tests.json"
    tests.write_text(json.dumps([{"package": "data.k_test", "name": "test_a"}]))
    opa = script(tmp_path / "opa", f'[ "$1" = test ] && cat {tests}; exit 0')
    ok = tmp_path / "ok.json"
    ok.write_text(conftest_json({"namespace": "k", "successes": 4}))
    bad = tmp_path / "bad.json"
    bad.write_text(conftest_json({"namespace": "k", "successes": 3, "failures": [{"msg": "no"}]}))
    conftest = script(
        tmp_path / "conftest",
        f'for last; do :; done; if grep -q BAD "$last"; then cat {bad}; exit 1; fi; cat {ok}',
    )
    monkeypatch.setattr(
        helm,
        "render",
        lambda _h, _svc, *, values_files, sets, kube_version: "BAD" if len(sets) > 1 else "ok",
    )
    report = policy.check(
        catalogue.service(), opa=opa, conftest_bin=conftest, helm_bin=tmp_path / "helm"
    )
    assert report.lines == [
        "rego: fmt and check --strict clean; opa test: 1/1 passed",
        "default: PASS (4 passed, 0 failed)",
        "local: PASS (4 passed, 0 failed)",
        "eks: PASS (4 passed, 0 failed)",
        "features: FAIL (3 passed, 1 failed)",
        "requests: PASS (4 passed, 0 failed)",
    ]
    assert list(report.denied) == ["features"]


def test_cli_has_the_policy_command() -> None:
    args = cli.build_parser().parse_args(["policy", "--profile", "eks"])
    assert args.profile == ["eks"]
    assert args.func is policy._run_check


# ------------------------------------------------- the real pinned opa and conftest


def pinned(name: str) -> Path:
    """The pinned binary: from the cache when warm, else built once (never skipped)."""
    from hello_platform.toolchain import resolve

    return resolve(name)


def test_repository_policies_are_clean_and_tested() -> None:
    opa = pinned("opa")
    policy.static_check(opa)
    assert policy.unit_tests(opa) >= 20


def test_bad_manifests_are_denied_for_each_seed_defect() -> None:
    outcome = policy.conftest(pinned("conftest"), BAD_MANIFESTS, what="the bad manifests")
    ids = {failure.split(":")[0] for failure in outcome.failures}
    assert {"HP001", "HP007", "HP020", "HP030"} <= ids
    text = "\n".join(outcome.failures)
    assert "Deployment/hello container 'hello' must run as non-root" in text
    assert "mutable tag 'latest' (x:latest)" in text
    assert "HorizontalPodAutoscaler/hello uses autoscaling/v2beta2" in text
    assert "annotation 'prometheus_io_path'" in text
    assert "prometheus.io/scrape'" not in text


def test_the_check_fails_on_a_bad_render(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helm, "render", lambda *_a, **_k: BAD_MANIFESTS)
    opa, conftest = pinned("opa"), pinned("conftest")
    report = policy.check(
        catalogue.service(), ["local"], opa=opa, conftest_bin=conftest, helm_bin=Path("helm")
    )
    assert report.lines[-1].startswith("local: FAIL")
    with pytest.raises(PlatformError, match=r"profile 'local' violates \d+ policy check\(s\): HP0"):
        raise report.error() or AssertionError("no error")
    findings = policy.chart_findings(report, catalogue.service().chart)
    assert {f.file for f in findings} == {"deploy/helm/hello (profile local)"}
    assert {"HP001", "HP020"} <= {f.rule for f in findings}
