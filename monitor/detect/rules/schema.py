"""The JSON Schema of rule files, generated from the pydantic models (rules/schema.json).

Regenerate after changing the models: `monitor rules schema --write rules/schema.json`
(a test fails while the published file is out of date).
"""

from __future__ import annotations

import json
from typing import Any

from .model import RuleFile

SCHEMA_ID = "https://github.com/feedback-monitor/feedback-monitor/rules/schema.json"


def rule_schema() -> dict[str, Any]:
    schema = RuleFile.model_json_schema(by_alias=True)
    schema.pop("description", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "description": "YAML detection rules for the feedback monitor (docs/rules.md). In an editor with the "
                           "YAML language server, start a rule file with "
                           "'# yaml-language-server: $schema=schema.json'.", **schema}


def schema_text() -> str:
    return json.dumps(rule_schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
