"""GitHub Issues REST API: one issue per incident, updates as comments, resolve closes it.

The issue carries a label derived from the incident's dedup key and its number is stored on
the incident; a retry whose first try may have reached GitHub lists issues by that label
before creating one, and looks for the notification's hidden marker in recent comments
before commenting again.
"""

from __future__ import annotations

import re
from typing import Mapping

from pydantic import Field, SecretStr, field_validator, model_validator

from ...errors import PermanentDeliveryError
from ..base import Channel, HttpOptions, require_secret
from ..payload import AlertView, marker
from ..render import clip, headline, markdown_body
from .http import Http

TITLE_LIMIT, BODY_LIMIT = 256, 60000


class GitHubOptions(HttpOptions):
    repo: str  # owner/name
    token: SecretStr | None = None  # a fine-grained token with Issues: read and write
    token_env: str | None = None
    labels: list[str] = Field(default_factory=lambda: ["feedback-monitor"])
    send_updates: bool = True

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", value):
            raise ValueError("repo must be owner/name")
        return value

    @model_validator(mode="after")
    def _token(self) -> "GitHubOptions":
        require_secret(self, "token")
        return self


def no_references(text: str) -> str:
    """Break #123 issue references (GitHub links them) with a zero-width space."""
    return re.sub(r"#(?=\d)", "#\u200b", text)


class GitHubChannel(Channel):
    type = "github"
    Options = GitHubOptions
    options: GitHubOptions

    def __init__(self, name: str, options: GitHubOptions) -> None:
        super().__init__(name, options)
        self.http = Http(options.base_url or "https://api.github.com", options.timeout, f"github {name}",
                         headers={"Authorization": f"Bearer {options.resolve_secret('token')}",
                                  "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
        self.repo = f"/repos/{options.repo}"

    def _request(self, method: str, path: str, **kwargs):
        return self.http.request(method, self.repo + path, rate_limit_403=True, **kwargs)

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        number = refs.get("issue") or (self._find(alert) if alert.attempts > 1 or alert.event != "trigger" else None)
        if alert.event == "trigger":
            return {"issue": number or self._create(alert)}
        if number is None:
            if alert.event == "resolve":
                return None
            number = self._create(alert)
        if alert.event in ("resolve", "acknowledge") or self.options.send_updates:
            self._comment(alert, number)
        if alert.event == "resolve":
            self._request("PATCH", f"/issues/{number}", json={"state": "closed", "state_reason": "completed"})
        return {"issue": number}

    def _body(self, alert: AlertView) -> str:
        tag = f"<!-- {marker(alert.dedup_key)} notification {alert.notification_id} -->"
        return clip(no_references(markdown_body(alert)), BODY_LIMIT) + "\n\n" + tag

    def _find(self, alert: AlertView) -> str | None:
        response = self._request("GET", "/issues", params={"labels": marker(alert.dedup_key), "state": "all",
                                                           "per_page": 5, "sort": "created", "direction": "asc"})
        issues = [i for i in self.http.json(response) if "pull_request" not in i]
        return str(issues[0]["number"]) if issues else None

    def _create(self, alert: AlertView) -> str:
        labels = list(dict.fromkeys([*self.options.labels, marker(alert.dedup_key)]))
        response = self._request("POST", "/issues", json={"title": headline(alert, TITLE_LIMIT),
                                                          "body": self._body(alert), "labels": labels})
        number = self.http.json(response).get("number")
        if number is None:
            raise PermanentDeliveryError(f"github {self.name}: the create answer had no issue number")
        return str(number)

    def _comment(self, alert: AlertView, number: str) -> None:
        tag = f"notification {alert.notification_id} -->"
        if alert.attempts > 1:  # look at the last page of comments, where a lost first try would be
            count = int(self.http.json(self._request("GET", f"/issues/{number}")).get("comments") or 0)
            if count:
                page = (count - 1) // 100 + 1
                response = self._request("GET", f"/issues/{number}/comments", params={"per_page": 100, "page": page})
                if any(tag in str(c.get("body", "")) for c in self.http.json(response)):
                    return
        self._request("POST", f"/issues/{number}/comments", json={"body": self._body(alert)})

    def close(self) -> None:
        self.http.close()
