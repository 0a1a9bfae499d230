"""Opsgenie Alerts API: create, acknowledge, close, notes and priority, by alias.

The alias is derived from the incident's dedup key, so Opsgenie keeps one open alert per
incident: a create sent twice after a crash only bumps the alert's count. Updates become
notes (each carries the notification id; a retried note is not added twice).
"""

from __future__ import annotations

from typing import Literal, Mapping

from pydantic import Field, SecretStr, model_validator

from ..base import Channel, HttpOptions, require_secret
from ..payload import AlertView, marker
from ..render import clip, facts, headline, text_body
from .http import Http

Priority = Literal["P1", "P2", "P3", "P4", "P5"]
DEFAULT_PRIORITIES: dict[str, Priority] = {"critical": "P1", "high": "P2", "medium": "P3", "low": "P4", "info": "P5"}
MESSAGE_LIMIT, DESCRIPTION_LIMIT, NOTE_LIMIT, MAX_TAGS = 130, 15000, 25000, 20


class OpsgenieOptions(HttpOptions):
    api_key: SecretStr | None = None  # an API integration key
    api_key_env: str | None = None
    priorities: dict[str, Priority] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    tags: list[str] = Field(default_factory=list)
    entity: str | None = None
    source: str = "feedback-monitor"
    send_updates: bool = True  # updates as notes on the alert

    @model_validator(mode="after")
    def _key(self) -> "OpsgenieOptions":
        require_secret(self, "api_key")
        return self


class OpsgenieChannel(Channel):
    type = "opsgenie"
    Options = OpsgenieOptions
    options: OpsgenieOptions

    def __init__(self, name: str, options: OpsgenieOptions) -> None:
        super().__init__(name, options)
        self.http = Http(options.base_url or "https://api.opsgenie.com", options.timeout, f"opsgenie {name}",
                         headers={"Authorization": f"GenieKey {options.resolve_secret('api_key')}"})

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        alias = marker(alert.dedup_key)
        path, params = f"/v2/alerts/{alias}", {"identifierType": "alias"}
        if alert.event == "trigger":
            self.http.request("POST", "/v2/alerts", json=self._create_body(alert, alias))
        elif alert.event == "acknowledge":
            self.http.request("POST", f"{path}/acknowledge", params=params,
                              json={"source": self.options.source, "note": self._note(alert)})
        elif alert.event == "resolve":
            self.http.request("POST", f"{path}/close", params=params,
                              json={"source": self.options.source, "note": self._note(alert)})
        elif alert.event == "escalate":
            priority = self.options.priorities.get(alert.severity.value, "P3")
            self.http.request("PUT", f"{path}/priority", params=params, json={"priority": priority})
            self._add_note(alert, path, params)
        elif alert.event == "update" and self.options.send_updates:
            self._add_note(alert, path, params)
        return {"alias": alias}

    def _create_body(self, alert: AlertView, alias: str) -> dict:
        details = {k: clip(v, 8000) for k, v in facts(alert)}
        details["dedup_key"] = alert.dedup_key
        tags = list(dict.fromkeys([*self.options.tags, *alert.tags, f"severity:{alert.severity.value}"]))
        body = {"message": headline(alert, MESSAGE_LIMIT), "alias": alias,
                "description": text_body(alert, DESCRIPTION_LIMIT), "tags": [clip(t, 50) for t in tags[:MAX_TAGS]],
                "details": details, "source": self.options.source,
                "priority": self.options.priorities.get(alert.severity.value, "P3")}
        if self.options.entity:
            body["entity"] = self.options.entity
        return body

    @staticmethod
    def _note(alert: AlertView) -> str:
        return clip(f"{text_body(alert)}\n\n[monitor notification {alert.notification_id}]", NOTE_LIMIT)

    def _add_note(self, alert: AlertView, path: str, params: dict) -> None:
        tag = f"[monitor notification {alert.notification_id}]"
        if alert.attempts > 1:  # a retry: the first try may have been recorded before the answer was lost
            response = self.http.request("GET", f"{path}/notes", params={**params, "limit": 100}, expect=(404,))
            if response.status_code == 200 and any(tag in str(n.get("note", ""))
                                                   for n in self.http.json(response).get("data") or ()):
                return
        self.http.request("POST", f"{path}/notes", params=params, json={"note": self._note(alert)})

    def close(self) -> None:
        self.http.close()
