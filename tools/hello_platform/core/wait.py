"""One way to wait: poll a check until it passes, bounded, with progress and a clear error.

Every "wait until X" of the package goes through :func:`until`, which runs on stamina's
retry loop (a fixed pace, no jitter, a total bound), so the bound, the pace and the error
policy are decided in one place:

    waited = until(lambda: Check(h.ok, h.detail), what="the node is not Ready", timeout=90,
                   progress=lambda s, detail: say(f"waiting ({detail}) ({s:.0f}s)"))
"""

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
    """One look at what is awaited: passed or not, and what was seen."""

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
    """Call ``check`` every ``interval`` s until it passes; return the seconds waited.

    ``progress(seconds, detail)`` is called after ``first_note`` s and then every ``every``
    s; ``abort()`` returning a reason ends the wait at once (a daemon that exited, say).
    After ``timeout`` s a :class:`PlatformError` says ``what`` (what is still not so, e.g.
    "the node is not Ready") with the last detail seen; on abort, the reason.
    """
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
                        f"{reason} ({last.detail})" if last.detail else reason,
                        hint=hint,
                        log=log,
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
    """:func:`until` where running out of time is an answer (False), not an error: whether
    ``check`` passed within ``timeout`` s (a process gone after SIGTERM, say)."""
    try:
        until(check, what="not yet", timeout=timeout, interval=interval)
    except PlatformError:
        return False
    return True
