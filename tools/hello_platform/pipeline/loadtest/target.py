"""Where the load may go: loopback only, checked before any request is sent."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from hello_platform.core.errors import PlatformError
from hello_platform.core.net import is_loopback
from hello_platform.core.wait import Check, until


def validate_url(url: str) -> str:
    """``url`` without a trailing slash, if it is http(s) on a loopback address (a name other
    than ``localhost`` could resolve anywhere)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PlatformError(
            f"--url {url!r} is not an http(s) URL", hint="use e.g. --url http://127.0.0.1:30080"
        )
    host = parts.hostname
    if not is_loopback(host):
        raise PlatformError(
            f"refusing to send load to {host}: the load test only targets loopback "
            "(127.0.0.0/8, ::1 or localhost)",
            hint="use the NodePort on 127.0.0.1 or a kubectl port-forward",
        )
    try:
        _ = parts.port
    except ValueError as exc:
        raise PlatformError(f"--url {url!r} has an invalid port") from exc
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise PlatformError(f"--url {url!r} must be the service's root (scheme://host:port)")
    return f"{parts.scheme}://{parts.netloc}"


def wait_ready(url: str, *, timeout_s: float = 60.0, path: str = "/readyz") -> None:
    def answers() -> Check:
        try:
            with urllib.request.urlopen(url + path, timeout=3) as response:  # noqa: S310
                return Check(response.status == 200, f"status {response.status}")
        except urllib.error.HTTPError as err:
            return Check(False, f"status {err.code}")
        except (urllib.error.URLError, OSError) as err:
            return Check(False, str(getattr(err, "reason", err)))

    until(
        answers,
        what=f"the service at {url} is not ready",
        timeout=timeout_s,
        interval=2,
        hint="check the deploy (nox -s deploy) or the --url",
    )
