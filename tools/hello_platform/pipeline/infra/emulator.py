"""moto's server as an AWS emulator on 127.0.0.1 (``infra --emulator``, the backend test)."""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hello_platform.core import proc
from hello_platform.core.wait import Check, until

#: Fake credentials moto accepts (it checks none); never real ones.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(
    *, log: Path | None = None, settings: dict[str, str] | None = None
) -> Iterator[str]:
    """Run moto's server on 127.0.0.1:<free port>; yields its URL, and stops it after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(settings or {})
    binary = proc.venv_binary(
        "moto_server",
        hint="run the tests through nox ('nox -s test'), which installs the aws-emulator group",
    )
    with Path(log or os.devnull).open("w") as out:
        server = subprocess.Popen(
            [binary, "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            until(
                lambda: _answers(f"{url}/moto-api/"),
                what=f"moto_server does not answer on {url}",
                timeout=20.0,
                interval=0.1,
                abort=lambda: (
                    None
                    if server.poll() is None
                    else f"moto_server exited with status {server.returncode} at start"
                ),
            )
            yield url
        finally:
            proc.end(server, timeout=10)


def _answers(url: str) -> Check:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
            return Check(True)
    except (urllib.error.URLError, OSError) as err:
        return Check(False, str(getattr(err, "reason", err)))
