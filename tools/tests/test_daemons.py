"""The daemon supervisor against real, small daemons on 127.0.0.1 (python's http.server)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.substrate import daemons


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web(tmp_path: Path, port: int, *, bound: bool = False, name: str = "web") -> daemons.Daemon:
    return daemons.Daemon(
        name=name,
        argv=(sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)),
        probe=daemons.Probe(http=f"http://127.0.0.1:{port}/"),
        run_dir=tmp_path / name,
        start_timeout=15.0,
        stop_timeout=5.0,
        bound_to_node=bound,
        foreign=f"something else answers on 127.0.0.1:{port}",
        foreign_hint="free the port",
    )


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELLO_PLATFORM_STATE", str(tmp_path / "state"))
    return tmp_path


def test_ensure_starts_records_and_reuses(tmp_path: Path) -> None:
    spec = web(tmp_path, free_port())
    try:
        daemons.ensure(spec)
        pid = spec.pid()
        assert pid is not None and spec.answers()
        assert daemons.load("web") == spec  # the declaration round-trips through its record
        daemons.ensure(spec)  # ours answers: nothing new is started
        assert spec.pid() == pid
    finally:
        daemons.stop("web", forget=True)
    assert spec.pid() is None and daemons.load("web") is None


def test_a_foreign_daemon_on_the_address_is_refused(tmp_path: Path) -> None:
    port = free_port()
    theirs = web(tmp_path, port, name="theirs")
    daemons.ensure(theirs)
    try:
        with pytest.raises(PlatformError, match=f"something else answers on 127.0.0.1:{port}"):
            daemons.ensure(web(tmp_path, port))
    finally:
        daemons.stop("theirs", forget=True)


def test_stop_all_keeps_records_and_restart_bound_starts_only_bound_ones(tmp_path: Path) -> None:
    bound, host = web(tmp_path, free_port(), bound=True, name="gitd"), web(tmp_path, free_port())
    daemons.ensure(bound)
    daemons.ensure(host)
    try:
        assert set(daemons.stop_all()) == {"gitd", "web"}
        assert bound.pid() is None and host.pid() is None
        assert daemons.restart_bound() == ["gitd"]
        assert bound.answers() and host.pid() is None
    finally:
        daemons.stop("gitd", forget=True)
        daemons.stop("web", forget=True)


def test_a_daemon_that_exits_while_starting_names_its_log(tmp_path: Path) -> None:
    spec = daemons.Daemon(
        name="broken",
        argv=(sys.executable, "-c", "raise SystemExit(3)"),
        probe=daemons.Probe(tcp=f"127.0.0.1:{free_port()}"),
        run_dir=tmp_path / "broken",
        start_timeout=10.0,
    )
    with pytest.raises(PlatformError, match="broken exited while starting") as err:
        daemons.ensure(spec)
    assert err.value.log == str(spec.log)


def test_command_probe_uses_its_environment() -> None:
    ok = daemons.Probe(command=(sys.executable, "-c", "import os; assert os.environ['X'] == '1'"))
    assert daemons.Probe(command=ok.command, env={"X": "1"}).ok()
    assert not ok.ok()
