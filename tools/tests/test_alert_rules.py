"""The chart's alert rules, checked and unit-tested by the pinned promtool.

``promtool check rules`` validates the shipped rule files; ``promtool test rules`` runs
the cases in ``tools/tests/rules/`` (each alert fires on its bad series, not on the good
ones, with the labels and annotations expected).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hello_platform.core import catalogue
from hello_platform.toolchain import resolve

RULES = sorted((catalogue.service().chart / "files" / "rules").glob("*.yaml"))
CASES = sorted((Path(__file__).parent / "rules").glob("*.test.yaml"))


@pytest.fixture(scope="module")
def promtool() -> Path:
    return resolve("promtool")


def run(promtool: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args], capture_output=True, text=True, timeout=60, check=False, cwd=cwd
    )


def test_there_are_rule_files_and_cases() -> None:
    assert RULES and CASES


def test_rule_files_are_valid(promtool: Path) -> None:
    done = run(promtool, "check", "rules", *map(str, RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 4 rules found" in done.stdout


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_promtool_rule_tests_pass(promtool: Path, case: Path) -> None:
    done = run(promtool, "test", "rules", case.name, cwd=case.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_a_broken_expectation_fails(promtool: Path, tmp_path: Path) -> None:
    """The runner really checks: a case expecting no alert where one fires fails."""
    case = CASES[0]
    text = case.read_text().replace(
        "../../../deploy/helm/hello/files/rules/", f"{RULES[0].parent}/"
    )
    broken = text.replace(
        "      - eval_time: 12m\n        alertname: HelloHighErrorRatio\n        exp_alerts:\n",
        "      - eval_time: 12m\n        alertname: HelloHighErrorRatio\n        exp_alerts: []\n"
        "      - eval_time: 13m\n        alertname: HelloHighErrorRatio\n        exp_alerts:\n",
    )
    assert broken != text
    (tmp_path / "broken.test.yaml").write_text(broken)
    done = run(promtool, "test", "rules", "broken.test.yaml", cwd=tmp_path)
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr
