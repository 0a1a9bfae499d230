"""The rule file format, as pydantic models (the JSON Schema in rules/schema.json comes from here).

A rule file is a mapping with one key, `rules`, holding a list of rules. Unknown keys are errors
everywhere. A rule's `type` picks its model; a condition is a mapping with exactly one
condition key (`all`, `any`, `not`, `keywords`, `regex`, `category`...).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, PlainSerializer, Tag,
                      WithJsonSchema, field_validator, model_validator)
from pydantic.json_schema import SkipJsonSchema

from ...config.types import format_duration, parse_duration
from ...models import Sentiment, Severity
from .spike_adapter import SpikeParams

RULE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
LANG_CODE = r"^[a-z]{2,3}$"
DEFAULT_TEST_START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday, 00:00 UTC

Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^(\s*\d+(\.\d+)?\s*[smhdw])+\s*$"},
                              {"type": "number", "minimum": 0}],
                    "description": "a duration: 30s, 5m, 2h, 7d, 1w, 1h30m (or seconds)"}),
]
Names = Union[str, list[str]]
GroupField = Literal["category", "lang", "sentiment", "source", "source_type", "app_version", "rating", "author",
                     "query"]
LangCode = Annotated[str, Field(pattern=LANG_CODE)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def as_list(value: Names | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- conditions -----------------------------------------------------------------------------

class AllOf(Strict):
    all: list["Condition"] = Field(min_length=1, description="every condition must hold")


class AnyOf(Strict):
    any: list["Condition"] = Field(min_length=1, description="at least one condition must hold")


class NotOf(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    not_: "Condition" = Field(alias="not", description="the condition must not hold")


class KeywordsCond(Strict):
    keywords: Union[dict[LangCode, list[str]], list[str]] = Field(
        description="keywords per language (en, zh, ko...), or a plain list; any one found is a match. "
                    "'word*' matches a word start, '*word' a word end, '*text*' anywhere")


class RegexCond(Strict):
    regex: Names = Field(description="Python regular expression(s), case-insensitive, searched in the "
                                     "normalised text; any one found is a match")


class CategoryCond(Strict):
    category: Names = Field(description="the post has one of these categories")
    min_score: float = Field(0.0, ge=0, le=1, description="...with at least this category score")


class SentimentCond(Strict):
    sentiment: Union[Sentiment, list[Sentiment]] = Field(description="sentiment label(s)")


class SentimentBelowCond(Strict):
    sentiment_below: float = Field(ge=-1, le=1, description="sentiment score strictly below this (-1..1)")


class SentimentAboveCond(Strict):
    sentiment_above: float = Field(ge=-1, le=1, description="sentiment score strictly above this (-1..1)")


class SourceCond(Strict):
    source: Names = Field(description="configured source name(s), e.g. okx-google-play")


class SourceTypeCond(Strict):
    source_type: Names = Field(description="source type(s): twitter, google_play, app_store, rss, file...")


class LangCond(Strict):
    lang: Names = Field(description="detected language code(s)")


class RatingAtMostCond(Strict):
    rating_at_most: int = Field(ge=1, le=5, description="store rating of at most this many stars")


class RatingAtLeastCond(Strict):
    rating_at_least: int = Field(ge=1, le=5, description="store rating of at least this many stars")


class FollowersAtLeastCond(Strict):
    followers_at_least: int = Field(ge=0, description="the author has at least this many followers")


class RepliedCond(Strict):
    replied: bool = Field(description="the developer has (true) or has not (false) replied")


class SecurityCond(Strict):
    security: bool = Field(description="enrichment flagged (true) or did not flag (false) a security complaint")


class AuthorCond(Strict):
    author: Names = Field(description="author name(s), case-insensitive (e.g. to exclude official accounts)")


class _SeveralConditions(Strict):
    """Catches a mapping with two condition keys, to say how to combine them."""

    @model_validator(mode="before")
    @classmethod
    def _reject(cls, value: Any) -> Any:
        keys = [k for k in CONDITION_KEYS if k in value]
        raise ValueError(f"one condition per item, found {', '.join(keys)}: combine conditions with all: or any:")


CONDITION_MODELS: dict[str, type[Strict]] = {
    "all": AllOf, "any": AnyOf, "not": NotOf, "keywords": KeywordsCond, "regex": RegexCond,
    "category": CategoryCond, "sentiment": SentimentCond, "sentiment_below": SentimentBelowCond,
    "sentiment_above": SentimentAboveCond, "source": SourceCond, "source_type": SourceTypeCond, "lang": LangCond,
    "rating_at_most": RatingAtMostCond, "rating_at_least": RatingAtLeastCond,
    "followers_at_least": FollowersAtLeastCond, "replied": RepliedCond, "security": SecurityCond,
    "author": AuthorCond,
}
CONDITION_KEYS = tuple(CONDITION_MODELS)
_MODEL_TAG = {model: f"cond[{key}]" for key, model in CONDITION_MODELS.items()}


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return _MODEL_TAG.get(type(value))
    if not isinstance(value, dict):
        return None
    present = [k for k in CONDITION_KEYS if k in value]
    if len(present) > 1:
        return "cond[several]"
    return f"cond[{present[0]}]" if present else None


Condition = Annotated[
    Union[tuple(Annotated[model, Tag(f"cond[{key}]")] for key, model in CONDITION_MODELS.items())
          + (Annotated[SkipJsonSchema[_SeveralConditions], Tag("cond[several]")],)],  # type: ignore[valid-type]
    Discriminator(_condition_tag, custom_error_type="condition",
                  custom_error_message="expected a condition: a mapping with one of " + ", ".join(CONDITION_KEYS)),
]
for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


# --- inline tests ---------------------------------------------------------------------------

class PinnedEnrichment(Strict):
    """Enrichment fields a test case fixes, so it does not depend on the installed sentiment model."""

    lang: str | None = None
    sentiment: Sentiment | None = None
    score: float | None = Field(None, ge=-1, le=1, description="sentiment score; from the label when omitted")
    categories: Union[list[str], dict[str, float], None] = None
    security: bool | None = None


class ExamplePost(Strict):
    text: str
    title: str | None = None
    source: str = "example"
    source_type: str = "file"
    author: str | None = None
    lang: str | None = Field(None, description="the source's language hint")
    rating: int | None = Field(None, ge=1, le=5)
    app_version: str | None = None
    url: str | None = None
    followers: int | None = Field(None, ge=0, description="author followers (stored where collectors put them)")
    replied: bool | None = Field(None, description="a developer reply exists")
    meta: dict[str, Any] = Field(default_factory=dict)
    enrichment: PinnedEnrichment | None = None


class MatchCase(ExamplePost):
    name: str = ""
    expect: Literal["match", "no_match"]


class TimelinePost(ExamplePost):
    at: Duration = Field(description="offset from the timeline start")
    repeat: int = Field(1, ge=1, le=20000, description="how many such posts (each with its own author)")
    every: Duration = Field(timedelta(0), description="spacing between repeats")


class ExpectedSignal(Strict):
    at: Duration | None = Field(None, description="exact offset of the finding (the window end)")
    after: Duration | None = Field(None, description="earliest offset, inclusive")
    before: Duration | None = Field(None, description="latest offset, inclusive")
    group: dict[str, str] | None = Field(None, description="the group it must have (any when omitted)")

    def accepts(self, offset: timedelta, group: dict[str, str]) -> bool:
        if self.at is not None and offset != self.at:
            return False
        if self.after is not None and offset < self.after:
            return False
        if self.before is not None and offset > self.before:
            return False
        return self.group is None or dict(self.group) == dict(group)

    def describe(self) -> str:
        if self.at is None and self.after is None and self.before is None:
            return "at any time" + (f" group {self.group}" if self.group is not None else "")
        when = (f"at +{format_duration(self.at)}" if self.at is not None else
                "between +{} and +{}".format(format_duration(self.after or timedelta(0)),
                                             format_duration(self.before) if self.before is not None else "end"))
        return when + (f" group {self.group}" if self.group is not None else "")


class TimelineCase(Strict):
    name: str = ""
    start: datetime = Field(DEFAULT_TEST_START, description="when the timeline starts (default: a Monday)")
    bucket: Duration = Field(timedelta(minutes=5), description="count bucket for this case")
    lateness: Duration = Field(timedelta(minutes=10), description="how long after its end a bucket is judged")
    until: Duration | None = Field(None, description="run the clock to this offset (default: past the last post)")
    posts: list[TimelinePost] = Field(default_factory=list)
    expect_findings: list[ExpectedSignal] = Field(default_factory=list)
    allow_more: bool = Field(False, description="findings beyond the expected ones are fine")
    expect_recoveries: list[ExpectedSignal] | None = None

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _case_tag(value: Any) -> str:
    if isinstance(value, BaseModel):
        return "case[timeline]" if isinstance(value, TimelineCase) else "case[post]"
    return "case[timeline]" if isinstance(value, dict) and "posts" in value else "case[post]"


TestCase = Annotated[Union[Annotated[MatchCase, Tag("case[post]")], Annotated[TimelineCase, Tag("case[timeline]")]],
                     Discriminator(_case_tag)]


# --- rules ----------------------------------------------------------------------------------

class RuleBase(Strict):
    id: str = Field(pattern=RULE_ID, description="unique across all rule files")
    title: str = Field(min_length=1)
    description: str = ""
    severity: Severity = Severity.MEDIUM
    enabled: bool = True
    tags: list[str] = Field(default_factory=list)
    owner: str = ""
    route: list[str] = Field(default_factory=list, description="channel names; overrides the config's routes")
    group_by: list[GroupField] = Field(default_factory=list, description="fields that make the incident key")
    realert: Duration = Field(timedelta(0), description="cooldown per rule and group between findings")
    resolve_after: Duration | None = Field(None, description="an incident resolves after this long without "
                                                             "findings (default 1h)")
    match: Condition | None = Field(None, description="which posts the rule looks at (all when omitted)")
    tests: list[TestCase] = Field(default_factory=list)


class MatchRule(RuleBase):
    type: Literal["match"]
    match: Condition = Field(description="every post matching this is a finding")  # type: ignore[assignment]


class AverageRating(Strict):
    """Judge the average store rating of the matching posts instead of their number."""

    below: float | None = Field(None, ge=1, le=5, description="fire when the window's average is below this")
    drop: float | None = Field(None, gt=0, le=4, description="...or at least this far below the baseline")
    baseline: Duration = Field(timedelta(days=30), description="the period before the window that makes "
                                                               "the baseline (all groups together)")

    @model_validator(mode="after")
    def _one(self) -> "AverageRating":
        if self.below is None and self.drop is None:
            raise ValueError("set `below`, `drop` or both")
        return self


class ThresholdRule(RuleBase):
    type: Literal["threshold"]
    window: Duration = Field(description="sliding window, a multiple of the detection bucket")
    min_count: int = Field(ge=1, description="fire with at least this many matching posts in the window")
    distinct_authors: bool = Field(False, description="count distinct authors instead of posts")
    average_rating: AverageRating | None = None


class SpikeRule(RuleBase):
    type: Literal["spike"]
    spike: SpikeParams = Field(default_factory=SpikeParams, description="the spike detector's parameters")


class FlatlineRule(RuleBase):
    type: Literal["flatline"]
    window: Duration = Field(description="fire when a group has fewer than min_count posts in this window")
    min_count: int = Field(1, ge=1)
    lookback: Duration = Field(timedelta(days=7), description="a group is watched while it has had posts in "
                                                              "this period")


TermKind = Literal["hashtags", "cashtags", "mentions", "domains", "words", "bigrams"]


class NewTermRule(RuleBase):
    type: Literal["new_term"]
    extract: list[TermKind] = Field(default_factory=lambda: ["hashtags", "cashtags", "domains"], min_length=1)
    window: Duration = Field(timedelta(hours=1), description="the term must appear min_count times within this")
    min_count: int = Field(3, ge=1)
    distinct_authors: bool = Field(False, description="count distinct authors instead of posts")
    lookback: Duration = Field(timedelta(days=7), description="...and not at all in this period before")
    term_filter: str | None = Field(None, description="regex a term must match to be reported")
    min_length: int = Field(3, ge=1, description="shorter terms are ignored")
    ignore: list[str] = Field(default_factory=list, description="terms never reported")


RULE_MODELS: dict[str, type[RuleBase]] = {"match": MatchRule, "threshold": ThresholdRule, "spike": SpikeRule,
                                          "flatline": FlatlineRule, "new_term": NewTermRule}
RULE_TYPES = tuple(RULE_MODELS)
WINDOWED_TYPES = ("threshold", "spike", "flatline", "new_term")


def _rule_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return f"type[{getattr(value, 'type', '')}]"
    if isinstance(value, dict) and value.get("type") in RULE_MODELS:
        return f"type[{value['type']}]"
    return None


Rule = Annotated[
    Union[tuple(Annotated[model, Tag(f"type[{name}]")] for name, model in RULE_MODELS.items())],  # type: ignore
    Discriminator(_rule_tag, custom_error_type="rule_type",
                  custom_error_message="`type` must be one of " + ", ".join(RULE_TYPES)),
]
AnyRule = Union[MatchRule, ThresholdRule, SpikeRule, FlatlineRule, NewTermRule]


class RuleFile(Strict):
    """A YAML rule file."""

    model_config = ConfigDict(extra="forbid", title="Feedback monitor rule file")
    rules: list[Rule] = Field(default_factory=list)  # type: ignore[valid-type]


def sentiment_score_for(label: Sentiment) -> float:
    """The score a test case gets when it pins only the sentiment label."""
    return {Sentiment.NEGATIVE: -0.7, Sentiment.NEUTRAL: 0.0, Sentiment.POSITIVE: 0.7}[label]


def sentiment_label_for(score: float) -> Sentiment:
    """The label a test case gets when it pins only the score."""
    return Sentiment.NEGATIVE if score < -0.25 else Sentiment.POSITIVE if score > 0.25 else Sentiment.NEUTRAL


def compile_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)
