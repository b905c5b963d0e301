"""The one exception type the glue raises for problems a user can fix.

A :class:`PlatformError` carries one plain sentence that says what is wrong and what
to do. The CLI prints it (no traceback) and exits non-zero; nox shows it as is.
"""

from __future__ import annotations


class PlatformError(Exception):
    """A user-facing failure: ``str(err)`` is the whole message."""

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
