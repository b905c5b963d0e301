"""The load goes to loopback only."""

from __future__ import annotations

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.loadtest.release import validate_url


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("http://127.0.0.1:30080", "http://127.0.0.1:30080"),
        ("http://127.0.0.1:30080/", "http://127.0.0.1:30080"),
        ("http://127.1.2.3:8000", "http://127.1.2.3:8000"),
        ("https://localhost:8443", "https://localhost:8443"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_loopback_urls_are_accepted(url: str, normalized: str) -> None:
    assert validate_url(url) == normalized


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:80",
        "http://192.168.1.10:30080",
        "http://172.17.0.2:8000",
        "http://8.8.8.8",
        "http://example.com",
        "http://localhost.example.com",
        "http://0.0.0.0:30080",
    ],
)
def test_other_hosts_are_refused(url: str) -> None:
    with pytest.raises(PlatformError, match="refusing to send load"):
        validate_url(url)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "127.0.0.1:30080", "http://", ""])
def test_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(PlatformError, match="not an http"):
        validate_url(url)


def test_paths_and_bad_ports_are_refused() -> None:
    with pytest.raises(PlatformError, match="root"):
        validate_url("http://127.0.0.1:8000/api")
    with pytest.raises(PlatformError, match="port"):
        validate_url("http://127.0.0.1:99999")
