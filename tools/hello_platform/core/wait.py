"""One way to wait: poll a check on stamina's retry loop (fixed pace, total bound) until it
passes, with progress, or fail with one sentence."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import stamina
import stamina.instrumentation

from hello_platform.core.errors import PlatformError

# Polling is expected, not news: no log line per attempt (stamina logs each retry by default).
stamina.instrumentation.set_on_retry_hooks([])


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = ""


class _NotYetError(Exception):
    pass


def until(
    check: Callable[[], Check | bool],
    *,
    what: str,
    timeout: float,
    interval: float = 1.0,
    progress: Callable[[float, str], None] | None = None,
    first_note: float = 3.0,
    every: float = 5.0,
    abort: Callable[[], str | None] | None = None,
    hint: str | None = None,
    log: str | None = None,
) -> float:
    """Call ``check`` every ``interval`` s until it passes; the seconds waited. ``progress``
    runs after ``first_note`` s, then every ``every`` s; ``abort()`` giving a reason ends it.
    After ``timeout`` s a PlatformError says ``what`` (still not so) and the last detail."""
    start = time.monotonic()
    note_at = start + first_note
    last = Check(False, "not checked yet")
    try:
        for attempt in stamina.retry_context(
            on=_NotYetError,
            attempts=None,
            timeout=timeout,
            wait_initial=interval,
            wait_max=interval,
            wait_jitter=0.0,
            wait_exp_base=1.0,
        ):
            with attempt:
                seen = check()
                last = seen if isinstance(seen, Check) else Check(bool(seen))
                now = time.monotonic()
                if last.ok:
                    return now - start
                reason = abort() if abort is not None else None
                if reason:
                    raise PlatformError(
                        f"{reason} ({last.detail})" if last.detail else reason, hint=hint, log=log
                    )
                if progress is not None and now >= note_at:
                    progress(now - start, last.detail)
                    note_at = now + every
                raise _NotYetError
    except _NotYetError:
        pass
    detail = f": {last.detail}" if last.detail else ""
    raise PlatformError(f"{what} after {timeout:.0f}s{detail}", hint=hint, log=log)


def within(check: Callable[[], Check | bool], *, timeout: float, interval: float = 1.0) -> bool:
    """Whether ``check`` passed within ``timeout`` s (running out of time is no error)."""
    try:
        until(check, what="not yet", timeout=timeout, interval=interval)
    except PlatformError:
        return False
    return True
