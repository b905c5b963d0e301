"""The one wait helper: bounded, paced, with progress and a clear error."""

from __future__ import annotations

import time

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.core.wait import Check, until, within


def test_returns_the_seconds_waited_once_the_check_passes() -> None:
    seen = iter([Check(False, "a"), False, Check(True, "ok")])
    waited = until(lambda: next(seen), what="x is not so", timeout=5, interval=0.01)
    assert 0 <= waited < 1


def test_timeout_names_what_and_the_last_detail() -> None:
    started = time.monotonic()
    with pytest.raises(PlatformError, match=r"the node is not Ready after 0s: NotReady"):
        until(
            lambda: Check(False, "NotReady"),
            what="the node is not Ready",
            timeout=0.3,
            interval=0.05,
            hint="see its log",
        )
    assert time.monotonic() - started < 2


def test_abort_ends_the_wait_at_once_with_its_reason() -> None:
    started = time.monotonic()
    with pytest.raises(PlatformError, match=r"etcd exited while starting \(no socket\)"):
        until(
            lambda: Check(False, "no socket"),
            what="etcd is not healthy",
            timeout=30,
            interval=0.05,
            abort=lambda: "etcd exited while starting",
        )
    assert time.monotonic() - started < 2


def test_progress_is_paced() -> None:
    notes: list[float] = []
    with pytest.raises(PlatformError):
        until(
            lambda: False,
            what="never",
            timeout=0.5,
            interval=0.02,
            progress=lambda s, _d: notes.append(s),
            first_note=0.1,
            every=0.15,
        )
    assert 2 <= len(notes) <= 4
    assert notes == sorted(notes) and notes[0] >= 0.1


def test_within_answers_instead_of_raising() -> None:
    calls = iter([False, False, True])
    assert within(lambda: next(calls), timeout=5, interval=0.01)
    assert not within(lambda: Check(False, "still running"), timeout=0.05, interval=0.01)
