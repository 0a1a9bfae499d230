"""Jira (Cloud REST v3 with Atlassian Document Format, or v2 with wiki text): one issue per
incident, updates as comments, resolve as a transition.

The issue carries a label derived from the incident's dedup key; its key is stored on the
incident. A retry whose first try may have reached Jira (after a timeout or a crash) searches
for that label before creating, and looks for the notification's marker among the latest
comments before commenting, so neither the issue nor a comment is made twice.
"""

from __future__ import annotations

import json
import re
from typing import Literal, Mapping

from pydantic import Field, SecretStr, model_validator

from ...errors import PermanentDeliveryError
from ...text.escape import plain_url, strip_controls
from ..base import Channel, HttpOptions
from ..payload import AlertView, marker
from ..render import facts, headline, single_line
from .http import Http

SUMMARY_LIMIT = 255
DEFAULT_PRIORITIES = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low", "info": "Lowest"}


class JiraOptions(HttpOptions):
    base_url: str  # your site, e.g. https://example.atlassian.net
    project: str  # project key, e.g. OPS
    issue_type: str = "Task"
    labels: list[str] = Field(default_factory=lambda: ["feedback-monitor"])
    priorities: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))  # {} leaves it unset
    email: str | None = None  # Cloud: the account's e-mail with an API token (basic auth)
    api_token: SecretStr | None = None
    api_token_env: str | None = None
    bearer_token: SecretStr | None = None  # Data Center: a personal access token
    bearer_token_env: str | None = None
    api_version: Literal[2, 3] = 3
    resolve_transition: str = "Done"  # transition (or target status) name used on resolve
    acknowledge_transition: str | None = None  # e.g. "In Progress"
    send_updates: bool = True

    @model_validator(mode="after")
    def _auth(self) -> "JiraOptions":
        basic = self.email is not None and self.has_secret("api_token")
        if not basic and not self.has_secret("bearer_token"):
            raise ValueError("give email with api_token (or api_token_env), or bearer_token (or bearer_token_env)")
        if any(" " in label for label in self.labels):
            raise ValueError("Jira labels cannot contain spaces")
        return self


_WIKI_SPECIAL = re.compile(r"([\\*_\-+^~\[\]{}|!#?])")


def wiki(text: str) -> str:
    """Jira wiki markup: backslash-escape markup characters (also defuses [~user] mentions and links)."""
    return _WIKI_SPECIAL.sub(r"\\\1", single_line(text))


def _para(text: str) -> dict:
    return {"type": "paragraph", "content": [{"type": "text", "text": text or " "}]}


def _bullets(lines: list[str]) -> dict:
    return {"type": "bulletList", "content": [{"type": "listItem", "content": [_para(line)]} for line in lines]}


def adf(alert: AlertView, footer: str) -> dict:
    """Atlassian Document Format: text nodes are plain text, so post text cannot add marks or links."""
    content = [_para(headline(alert))]
    if alert.description:
        content.append(_para(single_line(alert.description)))
    content.append(_bullets([f"{k}: {v}" for k, v in facts(alert)]))
    clusters = [f"({c.size}x) {single_line(c.text)}" + (f" {plain_url(c.url)}" if plain_url(c.url) else "")
                for c in alert.summary.clusters]
    if clusters:
        content += [_para("Top complaints:"), _bullets(clusters)]
    content.append(_para(footer))
    return {"type": "doc", "version": 1, "content": content}


def wiki_text(alert: AlertView, footer: str) -> str:
    lines = [f"*{wiki(headline(alert))}*"]
    if alert.description:
        lines.append(wiki(alert.description))
    lines += [f"* {wiki(k)}: {wiki(v)}" for k, v in facts(alert)]
    if alert.summary.clusters:
        lines.append("Top complaints:")
        lines += [f"* ({c.size}x) {wiki(c.text)} {wiki(plain_url(c.url))}".rstrip() for c in alert.summary.clusters]
    lines.append(wiki(footer))
    return "\n".join(lines)


class JiraChannel(Channel):
    type = "jira"
    Options = JiraOptions
    options: JiraOptions

    def __init__(self, name: str, options: JiraOptions) -> None:
        super().__init__(name, options)
        headers, auth = {"Accept": "application/json"}, None
        if options.email and options.has_secret("api_token"):
            auth = (options.email, options.resolve_secret("api_token"))
        else:
            headers["Authorization"] = f"Bearer {options.resolve_secret('bearer_token')}"
        self.api = f"/rest/api/{options.api_version}"
        self.http = Http(options.base_url, options.timeout, f"jira {name}", headers=headers, auth=auth)

    # --- the incident's issue ---------------------------------------------------------

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        issue = refs.get("issue") or (self._find(alert) if alert.attempts > 1 or alert.event != "trigger" else None)
        if alert.event == "trigger":
            return {"issue": issue or self._create(alert)}
        if issue is None:
            if alert.event == "resolve":
                return None  # nothing was ever opened for it
            issue = self._create(alert)  # its trigger was dead-lettered: open the issue now
        if alert.event == "resolve":
            self._comment(alert, issue)
            self._transition(issue, self.options.resolve_transition)
        elif alert.event == "acknowledge":
            self._comment(alert, issue)
            if self.options.acknowledge_transition:
                self._transition(issue, self.options.acknowledge_transition)
        elif self.options.send_updates:
            self._comment(alert, issue)
        return {"issue": issue}

    def _find(self, alert: AlertView) -> str | None:
        path = f"{self.api}/search/jql" if self.options.api_version == 3 else f"{self.api}/search"
        jql = f'labels = "{marker(alert.dedup_key)}" ORDER BY created ASC'
        response = self.http.request("GET", path, params={"jql": jql, "fields": "status", "maxResults": 5})
        issues = self.http.json(response).get("issues") or []
        return str(issues[0]["key"]) if issues else None

    def _create(self, alert: AlertView) -> str:
        o = self.options
        footer = f"Incident {alert.incident_id} · {alert.dedup_key} · monitor notification {alert.notification_id}"
        fields: dict = {"project": {"key": o.project}, "issuetype": {"name": o.issue_type},
                        "summary": headline(alert, SUMMARY_LIMIT),
                        "labels": list(dict.fromkeys([*o.labels, marker(alert.dedup_key)])),
                        "description": adf(alert, footer) if o.api_version == 3 else wiki_text(alert, footer)}
        priority = o.priorities.get(alert.severity.value)
        if priority:
            fields["priority"] = {"name": priority}
        response = self.http.request("POST", f"{self.api}/issue", json={"fields": fields})
        key = self.http.json(response).get("key")
        if not key:
            raise PermanentDeliveryError(f"jira {self.name}: the create answer had no issue key")
        return str(key)

    def _comment(self, alert: AlertView, issue: str) -> None:
        tag = f"monitor notification {alert.notification_id}"
        path = f"{self.api}/issue/{issue}/comment"
        if alert.attempts > 1:
            response = self.http.request("GET", path, params={"orderBy": "-created", "maxResults": 50}, expect=(404,))
            if response.status_code == 200 and any(tag in json.dumps(c.get("body"), ensure_ascii=False)
                                                   for c in self.http.json(response).get("comments") or ()):
                return
        footer = f"{tag} · {alert.status_word.lower()}"
        body = adf(alert, footer) if self.options.api_version == 3 else wiki_text(alert, footer)
        response = self.http.request("POST", path, json={"body": body}, expect=(404,))
        if response.status_code == 404:
            raise PermanentDeliveryError(f"jira {self.name}: issue {issue} no longer exists")

    def _transition(self, issue: str, name: str) -> None:
        response = self.http.request("GET", f"{self.api}/issue/{issue}", params={"fields": "status"}, expect=(404,))
        if response.status_code == 404:
            return
        status = (self.http.json(response).get("fields") or {}).get("status") or {}
        already_done = (status.get("statusCategory") or {}).get("key") == "done"
        if str(status.get("name", "")).casefold() == name.casefold() or (
                already_done and name == self.options.resolve_transition):
            return  # already there (a retry, or someone closed it by hand)
        response = self.http.request("GET", f"{self.api}/issue/{issue}/transitions")
        transitions = self.http.json(response).get("transitions") or []
        wanted = name.casefold()
        match = next((t for t in transitions if str(t.get("name", "")).casefold() == wanted
                      or str((t.get("to") or {}).get("name", "")).casefold() == wanted), None)
        if match is None:
            names = ", ".join(strip_controls(str(t.get("name"))) for t in transitions) or "none"
            raise PermanentDeliveryError(f"jira {self.name}: issue {issue} has no transition {name!r} "
                                         f"(available: {names})")
        self.http.request("POST", f"{self.api}/issue/{issue}/transitions", json={"transition": {"id": match["id"]}})

    def close(self) -> None:
        self.http.close()


__all__ = ["JiraChannel", "adf", "wiki"]
