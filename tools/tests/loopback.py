"""A loopback HTTP server for tests: a handler class served on 127.0.0.1 (a free port) by a
thread, shut down when the ``with`` block ends; and :class:`Chat`, a Slack-compatible
incoming webhook that keeps what it is sent."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> Iterator[int]:
    """Serve ``handler`` on ``host`` (loopback; the cluster bridge for a sink the pods
    post to); the port."""
    server = ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class Chat(BaseHTTPRequestHandler):
    """A chat's incoming webhook: keeps every JSON body it is sent (``received``, with the
    path in ``paths``) and answers the statuses of ``script`` in order, then 200."""

    script: ClassVar[list[int]] = []
    received: ClassVar[list[dict[str, Any]]] = []
    paths: ClassVar[list[str]] = []

    @classmethod
    def reset(cls) -> None:
        cls.script, cls.received, cls.paths = [], [], []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append(json.loads(body))
        type(self).paths.append(self.path)
        status = type(self).script.pop(0) if type(self).script else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass
