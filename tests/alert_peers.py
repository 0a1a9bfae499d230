"""Loopback peers that check requests the way the real services do.

Each peer is an http.server on 127.0.0.1 (port 0) in a thread, keeps the state the real API
would keep (PagerDuty alerts by dedup_key, Jira issues and comments...), rejects what the real
API rejects (bad auth, missing fields, limits) and can be told to fail the next requests
(429 with Retry-After, 5xx) or to stall on a request after processing it (for kill -9 tests).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import loopback_http

Response = tuple[int, dict[str, str], Any]  # status, headers, body (dict/list -> JSON, str/bytes as is)


class Request(loopback_http.Request):
    """The request loopback_http records, with the body readers the API peers need."""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}

    def params(self) -> dict[str, Any]:
        if self.headers.get("content-type", "").startswith("application/json"):
            return self.json() or {}
        return self.form()


@dataclass
class Stall:
    matches: Callable[[Request], bool]
    seconds: float
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    used: bool = False


class Peer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.failures: deque[Response] = deque()
        self.stalls: list[Stall] = []
        self.lock = threading.RLock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                req = Request(self.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                status, headers, body = peer._dispatch(req)
                if isinstance(body, (dict, list)):
                    data, headers = json.dumps(body).encode(), {"Content-Type": "application/json", **headers}
                else:
                    data = body.encode() if isinstance(body, str) else (body or b"")
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: Any = "", times: int = 1) -> None:
        for _ in range(times):
            self.failures.append((status, headers or {}, body))

    def stall_on(self, matches: Callable[[Request], bool], seconds: float = 60.0) -> Stall:
        """Process the first matching request, then hold the answer (the client sees no reply)."""
        stall = Stall(matches, seconds)
        self.stalls.append(stall)
        return stall

    def _dispatch(self, req: Request) -> Response:
        with self.lock:
            self.requests.append(req)
            if self.failures:
                return self.failures.popleft()
            result = self.handle(req)
            stall = next((s for s in self.stalls if not s.used and s.matches(req)), None)
            if stall:
                stall.used = True
        if stall:
            stall.reached.set()
            stall.release.wait(stall.seconds)
        return result

    def handle(self, req: Request) -> Response:
        return 404, {}, {"message": "not found"}

    def close(self) -> None:
        for stall in self.stalls:
            stall.release.set()
        self.server.shutdown()
        self.server.server_close()


# --- PagerDuty Events API v2 ----------------------------------------------------------------


class PagerDutyPeer(Peer):
    SEVERITIES = {"critical", "error", "warning", "info"}

    def __init__(self, routing_key: str = "R" * 32) -> None:
        self.routing_key = routing_key
        self.alerts: dict[str, dict] = {}  # dedup_key -> status, triggers, payload
        self.events: list[dict] = []
        self.opened = 0  # incidents PagerDuty opened (dedup'd)
        super().__init__()

    def handle(self, req: Request) -> Response:
        if (req.method, req.path) != ("POST", "/v2/enqueue"):
            return 404, {}, {"status": "not found"}
        try:
            event = req.json()
        except ValueError:
            return 400, {}, {"status": "invalid event", "message": "Event object is invalid", "errors": ["bad JSON"]}
        errors = self._errors(event)
        if errors:
            return 400, {}, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
        self.events.append(event)
        dedup, action = event["dedup_key"], event["event_action"]
        alert = self.alerts.get(dedup)
        if action == "trigger":
            if alert is None or alert["status"] == "resolved":
                self.opened += 1
                alert = self.alerts[dedup] = {"status": "triggered", "triggers": 0, "payload": event["payload"]}
            alert["triggers"] += 1
        elif alert is not None and alert["status"] != "resolved":
            alert["status"] = "acknowledged" if action == "acknowledge" else "resolved"
        return 202, {}, {"status": "success", "message": "Event processed", "dedup_key": dedup}

    def _errors(self, event: Any) -> list[str]:
        if not isinstance(event, dict):
            return ["event must be an object"]
        errors = []
        if event.get("routing_key") != self.routing_key:
            errors.append("Invalid routing key")
        action = event.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        dedup = event.get("dedup_key")
        if not isinstance(dedup, str) or not dedup or len(dedup) > 255:
            errors.append("'dedup_key' is missing or longer than 255 characters")
        if action == "trigger":
            payload = event.get("payload") or {}
            summary = payload.get("summary")
            if not isinstance(summary, str) or not summary or len(summary) > 1024:
                errors.append("'payload.summary' is missing or longer than 1024 characters")
            if not payload.get("source"):
                errors.append("'payload.source' is missing")
            if payload.get("severity") not in self.SEVERITIES:
                errors.append("'payload.severity' is invalid")
            if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
                errors.append("'payload.custom_details' must be an object")
            for link in event.get("links") or []:
                if not isinstance(link, dict) or not str(link.get("href", "")).startswith("http"):
                    errors.append("'links' entries need an href")
        return errors


# --- Opsgenie Alerts API --------------------------------------------------------------------


class OpsgeniePeer(Peer):
    def __init__(self, api_key: str = "og-key-123456") -> None:
        self.api_key = api_key
        self.alerts: dict[str, dict] = {}  # alias -> alert (only one open alert per alias)
        super().__init__()

    def handle(self, req: Request) -> Response:
        if req.headers.get("authorization") != f"GenieKey {self.api_key}":
            return 401, {}, {"message": "Could not authenticate", "took": 0.0, "requestId": "r"}
        ok = (202, {}, {"result": "Request will be processed", "took": 0.01, "requestId": "r1"})
        if (req.method, req.path) == ("POST", "/v2/alerts"):
            body = req.json()
            message, alias = body.get("message"), body.get("alias")
            if not message or len(message) > 130 or (alias and len(alias) > 512) or len(body.get("tags") or []) > 20 \
                    or body.get("priority", "P3") not in ("P1", "P2", "P3", "P4", "P5") \
                    or not all(isinstance(v, str) for v in (body.get("details") or {}).values()):
                return 422, {}, {"message": "Request body is not processable", "took": 0.0, "requestId": "r"}
            alert = self.alerts.get(alias)
            if alert and alert["status"] == "open":
                alert["count"] += 1
            else:
                self.alerts[alias] = {"status": "open", "count": 1, "priority": body.get("priority", "P3"),
                                      "notes": [], "acknowledged": False, "message": message}
            return ok
        m = re.fullmatch(r"/v2/alerts/([^/]+)/(close|acknowledge|notes|priority)", req.path)
        if not m or req.query.get("identifierType") != ["alias"]:
            return 404, {}, {"message": "not found"}
        alert = self.alerts.get(m.group(1))
        if alert is None:
            return 404, {}, {"message": "Alert does not exist", "took": 0.0, "requestId": "r"}
        action = m.group(2)
        if action == "notes" and req.method == "GET":
            return 200, {}, {"data": [{"note": n} for n in alert["notes"]]}
        body = req.json() or {}
        if action == "close":
            alert["status"] = "closed"
        elif action == "acknowledge":
            alert["acknowledged"] = True
        elif action == "priority":
            alert["priority"] = body["priority"]
        else:
            if not body.get("note") or len(body["note"]) > 25000:
                return 422, {}, {"message": "note is invalid"}
            alert["notes"].append(body["note"])
        return ok


# --- Jira Cloud REST v3 / v2 ----------------------------------------------------------------


class JiraPeer(Peer):
    def __init__(self, email: str = "bot@example.com", token: str = "jira-token-1", project: str = "OPS") -> None:
        self.auth = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
        self.project = project
        self.issues: dict[str, dict] = {}
        self.transitions = [{"id": "11", "name": "To Do", "to": {"name": "To Do", "statusCategory": {"key": "new"}}},
                            {"id": "21", "name": "In Progress",
                             "to": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}},
                            {"id": "31", "name": "Done", "to": {"name": "Done", "statusCategory": {"key": "done"}}}]
        super().__init__()

    def handle(self, req: Request) -> Response:
        if req.headers.get("authorization") != self.auth:
            return 401, {}, {"errorMessages": ["You are not authenticated."], "errors": {}}
        m = re.fullmatch(r"/rest/api/([23])/(.*)", req.path)
        if not m:
            return 404, {}, {"errorMessages": ["not found"]}
        version, rest = int(m.group(1)), m.group(2)
        if (req.method, rest) == ("POST", "issue"):
            return self._create(req.json(), version)
        if req.method == "GET" and rest in ("search/jql", "search"):
            if (version, rest) == (3, "search"):
                return 410, {}, {"errorMessages": ["The requested API has been removed. Use /rest/api/3/search/jql"]}
            label = re.search(r'labels\s*=\s*"([^"]+)"', req.query.get("jql", [""])[0])
            found = [{"id": i["id"], "key": k, "fields": {"status": i["status"]}}
                     for k, i in self.issues.items() if label and label.group(1) in i["labels"]]
            return 200, {}, {"issues": found, "isLast": True}
        m = re.fullmatch(r"issue/([A-Z]+-\d+)(/comment|/transitions)?", rest)
        if not m or m.group(1) not in self.issues:
            return 404, {}, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
        issue, sub = self.issues[m.group(1)], m.group(2)
        if sub is None and req.method == "GET":
            return 200, {}, {"key": m.group(1), "fields": {"status": issue["status"]}}
        if sub == "/comment" and req.method == "GET":
            return 200, {}, {"comments": [{"id": str(i), "body": b} for i, b in enumerate(issue["comments"])],
                             "total": len(issue["comments"])}
        if sub == "/comment" and req.method == "POST":
            body = req.json().get("body")
            if not self._valid_doc(body, version):
                return 400, {}, {"errorMessages": ["Comment body is not valid"], "errors": {}}
            issue["comments"].append(body)
            return 201, {}, {"id": str(len(issue["comments"]))}
        if sub == "/transitions" and req.method == "GET":
            return 200, {}, {"transitions": self.transitions}
        if sub == "/transitions" and req.method == "POST":
            wanted = (req.json().get("transition") or {}).get("id")
            match = next((t for t in self.transitions if t["id"] == wanted), None)
            if match is None:
                return 400, {}, {"errorMessages": ["Transition id is not valid"], "errors": {}}
            issue["status"] = {"name": match["to"]["name"], "statusCategory": match["to"]["statusCategory"]}
            issue["transitioned"].append(match["name"])
            return 204, {}, b""
        return 405, {}, b""

    @staticmethod
    def _valid_doc(body: Any, version: int) -> bool:
        if version == 2:
            return isinstance(body, str) and bool(body)
        return isinstance(body, dict) and body.get("type") == "doc" and body.get("version") == 1 and \
            isinstance(body.get("content"), list) and bool(body["content"])

    def _create(self, body: Any, version: int) -> Response:
        fields, errors = (body or {}).get("fields") or {}, {}
        if (fields.get("project") or {}).get("key") != self.project:
            errors["project"] = "valid project is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 255 or "\n" in summary:
            errors["summary"] = "Summary must be less than 255 characters and on one line."
        if (fields.get("issuetype") or {}).get("name") not in ("Task", "Bug"):
            errors["issuetype"] = "valid issue type is required"
        if any(" " in label for label in fields.get("labels") or []):
            errors["labels"] = "Labels cannot contain spaces."
        if "priority" in fields and fields["priority"].get("name") not in ("Highest", "High", "Medium", "Low",
                                                                            "Lowest"):
            errors["priority"] = "Specify a valid priority."
        if not self._valid_doc(fields.get("description"), version):
            errors["description"] = "Operation value must be an Atlassian Document." if version == 3 else "bad"
        if errors:
            return 400, {}, {"errorMessages": [], "errors": errors}
        key = f"{self.project}-{len(self.issues) + 1}"
        self.issues[key] = {"id": str(10000 + len(self.issues)), "fields": fields, "labels": list(fields["labels"]),
                            "comments": [], "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                            "transitioned": []}
        return 201, {}, {"id": self.issues[key]["id"], "key": key, "self": f"{self.url}/rest/api/3/issue/{key}"}


# --- GitHub Issues REST ---------------------------------------------------------------------


class GitHubPeer(Peer):
    def __init__(self, token: str = "ghp_test_token", repo: str = "acme/support") -> None:
        self.token, self.repo = token, repo
        self.issues: dict[int, dict] = {}
        super().__init__()

    def handle(self, req: Request) -> Response:
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials"}
        if "github" not in req.headers.get("accept", "") or not req.headers.get("x-github-api-version"):
            return 415, {}, {"message": "Unsupported media type"}
        prefix = f"/repos/{self.repo}/issues"
        if not req.path.startswith(prefix):
            return 404, {}, {"message": "Not Found"}
        rest = req.path[len(prefix):]
        if rest == "" and req.method == "POST":
            body = req.json()
            title = body.get("title")
            if not isinstance(title, str) or not title or len(title) > 256 or len(body.get("body") or "") > 65536:
                return 422, {}, {"message": "Validation Failed", "errors": [{"field": "title", "code": "invalid"}]}
            number = len(self.issues) + 1
            self.issues[number] = {"number": number, "title": title, "body": body.get("body", ""), "state": "open",
                                   "labels": [{"name": n} for n in body.get("labels") or []], "comment_list": []}
            return 201, {}, self._view(number)
        if rest == "" and req.method == "GET":
            wanted = set((req.query.get("labels") or [""])[0].split(",")) - {""}
            found = [self._view(n) for n, i in sorted(self.issues.items())
                     if wanted <= {label["name"] for label in i["labels"]}]
            return 200, {}, found
        m = re.fullmatch(r"/(\d+)(/comments)?", rest)
        if not m or int(m.group(1)) not in self.issues:
            return 404, {}, {"message": "Not Found"}
        number, issue = int(m.group(1)), self.issues[int(m.group(1))]
        if m.group(2) and req.method == "POST":
            issue["comment_list"].append(req.json()["body"])
            return 201, {}, {"id": len(issue["comment_list"]), "body": issue["comment_list"][-1]}
        if m.group(2):
            per_page, page = int(req.query.get("per_page", ["30"])[0]), int(req.query.get("page", ["1"])[0])
            chunk = issue["comment_list"][(page - 1) * per_page: page * per_page]
            return 200, {}, [{"body": b} for b in chunk]
        if req.method == "PATCH":
            issue["state"] = req.json().get("state", issue["state"])
            return 200, {}, self._view(number)
        return 200, {}, self._view(number)

    def _view(self, number: int) -> dict:
        i = self.issues[number]
        return {"number": number, "title": i["title"], "body": i["body"], "state": i["state"], "labels": i["labels"],
                "comments": len(i["comment_list"]), "html_url": f"https://github.com/{self.repo}/issues/{number}"}


# --- Slack: incoming webhook and Web API ----------------------------------------------------


def slack_block_errors(blocks: Any) -> list[str]:
    if blocks is None:
        return []
    if not isinstance(blocks, list) or len(blocks) > 50:
        return ["too many blocks"]
    errors = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            t = b.get("text") or {}
            if t.get("type") != "plain_text" or not t.get("text") or len(t["text"]) > 150:
                errors.append("invalid header")
        elif kind == "section":
            t, fields = b.get("text"), b.get("fields")
            if t is None and not fields:
                errors.append("empty section")
            if t is not None and (t.get("type") not in ("mrkdwn", "plain_text") or not t.get("text")
                                  or len(t["text"]) > 3000):
                errors.append("invalid section text")
            if fields and (len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields)):
                errors.append("invalid fields")
        elif kind == "context":
            if not b.get("elements") or len(b["elements"]) > 10:
                errors.append("invalid context")
        elif kind == "markdown":
            if not b.get("text") or len(b["text"]) > 12000:
                errors.append("invalid markdown")
        else:
            errors.append(f"unknown block {kind}")
    return errors


class SlackPeer(Peer):
    WEBHOOK = "/services/T000/B000/XXXXSECRET"

    def __init__(self, token: str = "xoxb-test-token", channel: str = "C0123ABCD") -> None:
        self.token, self.channel = token, channel
        self.webhook_posts: list[dict] = []
        self.messages: list[dict] = []  # chat.postMessage results, in order
        self.uploads: dict[str, dict] = {}
        self.shared_files: list[dict] = []
        self._ts = 1700000000
        super().__init__()

    @property
    def webhook_url(self) -> str:
        return self.url + self.WEBHOOK

    def handle(self, req: Request) -> Response:
        if req.path == self.WEBHOOK:
            body = req.json()
            if not body.get("text") and not body.get("blocks"):
                return 400, {}, "no_text"
            if slack_block_errors(body.get("blocks")):
                return 400, {}, "invalid_blocks"
            self.webhook_posts.append(body)
            return 200, {}, "ok"
        if req.path.startswith("/upload/"):
            file_id = req.path.rsplit("/", 1)[1]
            if file_id not in self.uploads:
                return 404, {}, "no such upload"
            self.uploads[file_id]["data"] = req.body
            return 200, {}, f"OK - {len(req.body)}"
        if not req.path.startswith("/api/"):
            return 404, {}, "not found"
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return 200, {}, {"ok": False, "error": "not_authed"}
        method, args = req.path[5:], req.params()
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method"}
        return 200, {}, handler(args)

    def _message(self, ts: str) -> dict | None:
        return next((m for m in self.messages if m["ts"] == ts), None)

    def api_chat_postMessage(self, a: dict) -> dict:
        if a.get("channel") != self.channel:
            return {"ok": False, "error": "channel_not_found"}
        if not a.get("text") and not a.get("blocks"):
            return {"ok": False, "error": "no_text"}
        if slack_block_errors(a.get("blocks")):
            return {"ok": False, "error": "invalid_blocks"}
        if a.get("thread_ts") and not self._message(a["thread_ts"]):
            return {"ok": False, "error": "thread_not_found"}
        self._ts += 1
        message = {"ts": f"{self._ts}.000100", "thread_ts": a.get("thread_ts"), "text": a.get("text"),
                   "blocks": a.get("blocks"), "metadata": a.get("metadata"), "edits": 0,
                   "broadcast": bool(a.get("reply_broadcast"))}
        self.messages.append(message)
        return {"ok": True, "channel": self.channel, "ts": message["ts"], "message": {"text": a.get("text")}}

    def api_chat_update(self, a: dict) -> dict:
        message = self._message(a.get("ts", ""))
        if a.get("channel") != self.channel or message is None:
            return {"ok": False, "error": "message_not_found"}
        message.update(text=a.get("text"), blocks=a.get("blocks"), edits=message["edits"] + 1)
        return {"ok": True, "channel": self.channel, "ts": message["ts"]}

    def api_conversations_history(self, a: dict) -> dict:
        roots = [m for m in reversed(self.messages) if not m["thread_ts"] or m["broadcast"]]
        return {"ok": True, "messages": [self._visible(m, a) for m in roots[: int(a.get("limit", 100))]]}

    def api_conversations_replies(self, a: dict) -> dict:
        thread = [m for m in self.messages if m["ts"] == a.get("ts") or m["thread_ts"] == a.get("ts")]
        return {"ok": True, "messages": [self._visible(m, a) for m in thread]}

    @staticmethod
    def _visible(m: dict, a: dict) -> dict:
        out = {"ts": m["ts"], "text": m["text"]}
        if str(a.get("include_all_metadata")).lower() == "true" and m["metadata"]:
            out["metadata"] = m["metadata"]
        return out

    def api_files_getUploadURLExternal(self, a: dict) -> dict:
        if not a.get("filename") or not str(a.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.uploads) + 1:05d}"
        self.uploads[file_id] = {"filename": a["filename"], "length": int(a["length"]), "data": None}
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def api_files_completeUploadExternal(self, a: dict) -> dict:
        files = json.loads(a.get("files") or "[]")
        for f in files:
            upload = self.uploads.get(f.get("id"))
            if upload is None or upload["data"] is None:
                return {"ok": False, "error": "file_not_found"}
        if a.get("channel_id") != self.channel:
            return {"ok": False, "error": "channel_not_found"}
        self.shared_files.append({"files": files, "thread_ts": a.get("thread_ts")})
        return {"ok": True, "files": [{"id": f["id"]} for f in files]}


# --- a generic signed webhook receiver ------------------------------------------------------


class WebhookPeer(Peer):
    def __init__(self, secret: str = "hook-secret-1") -> None:
        self.secret = secret
        self.deliveries: dict[str, dict] = {}  # X-Monitor-Delivery -> body (the receiver dedupes)
        super().__init__()

    def handle(self, req: Request) -> Response:
        expected = "sha256=" + hmac.new(self.secret.encode(), req.body, "sha256").hexdigest()
        if not hmac.compare_digest(req.headers.get("x-monitor-signature", ""), expected):
            return 401, {}, {"error": "bad signature"}
        self.deliveries[req.headers["x-monitor-delivery"]] = req.json()
        return 204, {}, b""


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
