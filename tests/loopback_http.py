"""A scripted HTTP server on 127.0.0.1 (port 0) for testing collectors without the internet.

    with LoopbackServer() as server:
        server.route("GET", "/feed", Reply(200, body, {"ETag": '"v1"'}))
        server.route("GET", "/feed", lambda req: Reply(304) if req.headers.get("if-none-match") else ...)
        url = server.url("/feed")

A route holds a queue of replies: each request takes the next one, and the last one repeats.
A reply can be a callable taking the Request. `server.requests` records what was asked.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Union
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (to trigger client timeouts)
    truncate_to: int | None = None  # announce the full length but send only this many bytes, then close


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Responder = Union[Reply, Callable[[Request], Reply]]


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Responder]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                reply = server._next_reply(request)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/octet-stream", **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    if reply.truncate_to is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if reply.truncate_to is not None:
                        self.wfile.write(payload[: reply.truncate_to])
                        self.wfile.flush()
                        self.close_connection = True
                    elif self.command != "HEAD" and reply.status not in (204, 304):
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    # -- scripting ------------------------------------------------------------------------

    def route(self, method: str, path: str, *replies: Responder) -> None:
        with self._lock:
            self.routes.setdefault((method.upper(), path), []).extend(replies)

    def reset_route(self, method: str, path: str, *replies: Responder) -> None:
        with self._lock:
            self.routes[(method.upper(), path)] = list(replies)

    def _next_reply(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            queue = self.routes.get((request.method, request.path))
            if not queue:
                return Reply(404, b"no route")
            responder = queue.pop(0) if len(queue) > 1 else queue[0]
        return responder(request) if callable(responder) else responder

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
