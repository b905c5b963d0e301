"""The smoke check: ``GET /`` and ``GET /version`` of the service on this machine."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from hello_platform.core.errors import PlatformError

HttpGet = Callable[[str], tuple[int, bytes]]


def http_get(url: str) -> tuple[int, bytes]:
    """GET ``url`` (loopback only); (status, body), status 0 when nothing answered."""
    if not url.startswith(("http://127.", "http://localhost")):
        raise PlatformError(f"smoke requests go to this machine only, not {url}")
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - loopback http
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def smoke(
    base: str,
    *,
    revision: str | None,
    get: HttpGet = http_get,
    attempts: int = 20,
    pause: float = 0.5,
) -> dict[str, Any]:
    """``GET /`` and ``GET /version`` must answer 200; /version must name ``revision``."""
    last = ""
    for attempt in range(attempts):
        status, _ = get(base + "/")
        if status == 200:
            v_status, v_body = get(base + "/version")
            if v_status == 200:
                info: dict[str, Any] = json.loads(v_body)
                if revision is None or info.get("revision") == revision:
                    return info
                last = f"/version says revision {info.get('revision')}, expected {revision}"
            else:
                last = f"/version answered {v_status}"
        else:
            last = f"/ answered {status or 'nothing'}"
        if attempt + 1 < attempts:
            time.sleep(pause)
    raise PlatformError(
        f"the smoke request to {base} failed: {last}",
        hint="check the pods and the Service's node port",
    )
