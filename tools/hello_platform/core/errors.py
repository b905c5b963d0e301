"""The one exception the glue raises for problems a user can fix: printed, no traceback."""

from __future__ import annotations


class PlatformError(Exception):
    """``str(err)`` is the whole message: what is wrong, what to do, the log."""

    def __init__(self, message: str, *, hint: str | None = None, log: str | None = None) -> None:
        parts = [message.rstrip(".") + "."]
        if hint:
            parts.append(hint.rstrip(".") + ".")
        if log:
            parts.append(f"Log: {log}")
        super().__init__(" ".join(parts))
        self.message = message
        self.hint = hint
        self.log = log
