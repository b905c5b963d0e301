"""Unit tests of the glue's core: errors, paths, proc, system, cli."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest
from hello_platform import cli
from hello_platform.core import paths, proc
from hello_platform.core.errors import PlatformError
from hello_platform.toolchain import apt as system


def test_platform_error_is_one_sentence_with_hint_and_log() -> None:
    err = PlatformError("the registry is unreachable.", hint="start it", log="/tmp/x.log")
    assert str(err) == "the registry is unreachable. start it. Log: /tmp/x.log"


def test_cache_and_state_dirs_honour_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path / "s"))
    assert paths.cache_dir() == tmp_path / "c"
    assert paths.state_dir() == tmp_path / "s"
    monkeypatch.delenv("HELLO_PLATFORM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert paths.cache_dir() == tmp_path / "xdg" / "hello-platform"


def test_repo_root_holds_the_noxfile() -> None:
    assert (paths.REPO_ROOT / "noxfile.py").is_file()


def test_run_captures_stdout() -> None:
    out = proc.run([sys.executable, "-c", "print('hi')"], what="echo", capture=True)
    assert out == "hi\n"


def test_run_failure_names_what_and_last_stderr_line() -> None:
    code = "import sys; sys.stderr.write('first\\nboom\\n'); sys.exit(3)"
    with pytest.raises(PlatformError, match=r"probe failed \(exit 3\): boom"):
        proc.run([sys.executable, "-c", code], what="probe", capture=True)


def test_run_appends_to_log_and_names_it(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "x.log"
    proc.run([sys.executable, "-c", "print('one')"], what="one", log=log)
    with pytest.raises(PlatformError, match=r"Log: .*x\.log"):
        proc.run([sys.executable, "-c", "import sys; sys.exit(1)"], what="two", log=log)
    text = log.read_text()
    assert "one\n" in text
    assert text.count("$ ") == 2


def test_run_missing_program_and_timeout() -> None:
    with pytest.raises(PlatformError, match="is not installed"):
        proc.run(["/nonexistent/tool"], what="tool")
    with pytest.raises(PlatformError, match="did not finish within 0s"):
        proc.run([sys.executable, "-c", "import time; time.sleep(5)"], what="x", timeout=0.2)


def test_which_hints_when_missing() -> None:
    with pytest.raises(PlatformError, match="apt-get install nope"):
        proc.which("definitely-not-a-program-xyz", hint="apt-get install nope")


def test_require_linux_root_suggests_alternative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system.platform, "system", lambda: "Darwin")
    with pytest.raises(PlatformError, match=r"needs Linux.*--kubeconfig"):
        system.require_linux_root("the cluster", alternative="pass --kubeconfig")
    monkeypatch.setattr(system.platform, "system", lambda: "Linux")
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    with pytest.raises(PlatformError, match="needs root"):
        system.require_linux_root("the cluster", alternative="pass --kubeconfig")


def test_ensure_packages_off_debian_lists_missing_programs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(system, "is_debian", lambda: False)
    monkeypatch.setattr(system.shutil, "which", lambda name: None if name == "wrk" else "/x")
    with pytest.raises(PlatformError, match="not found: wrk"):
        system.ensure_debian_packages(["sh", "wrk"], why="the benchmark")


def test_ensure_packages_as_non_root_prints_the_apt_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(system, "is_debian", lambda: True)
    monkeypatch.setattr(system, "missing_packages", lambda pkgs: ["wrk"])
    monkeypatch.setattr(system.os, "geteuid", lambda: 1000)
    with pytest.raises(PlatformError, match="sudo apt-get install -y wrk"):
        system.ensure_debian_packages(["wrk"], why="the benchmark")


def test_ensure_packages_nothing_missing_runs_no_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system, "is_debian", lambda: True)
    monkeypatch.setattr(system, "missing_packages", lambda pkgs: [])

    def no_apt(*args: object, **kwargs: object) -> None:
        raise AssertionError("apt-get must not run")

    monkeypatch.setattr(system.subprocess, "run", no_apt)
    system.ensure_debian_packages(["wrk"], why="the benchmark")


def test_cli_turns_platform_error_into_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(args: argparse.Namespace) -> int:
        raise PlatformError("it broke", hint="fix it")

    def parser() -> argparse.ArgumentParser:
        p = argparse.ArgumentParser()
        p.set_defaults(func=fail)
        return p

    monkeypatch.setattr(cli, "build_parser", parser)
    assert cli.main([]) == 2
    assert capsys.readouterr().err == "error: it broke. fix it.\n"


def test_cli_menu_builds_with_every_command_module() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert len(sub.choices) >= len(cli.COMMAND_MODULES)
    assert {"bench", "cluster", "deploy"} <= set(sub.choices)
