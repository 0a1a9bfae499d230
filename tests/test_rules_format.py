"""The rule file format: schema errors and semantic checks, each located by file, line and column."""

import json

import pytest

from monitor.detect.rules import load_rules
from monitor.detect.rules.schema import rule_schema, schema_text
from monitor.errors import ConfigError
from monitor.paths import builtin_rules_dir
from rules_helpers import write_rules

GOOD = """\
rules:
  - id: a
    title: A
    type: match
    match: {keywords: [hacked]}
"""


def problems(tmp_path, text, **kwargs) -> list[str]:
    path = write_rules(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_rules([path], **kwargs)
    return [f"{loc.line}:{loc.column}: {msg}" for loc, msg in info.value.problems]


def test_a_valid_file_loads(tmp_path):
    ruleset = load_rules([write_rules(tmp_path, GOOD)])
    assert [r.id for r in ruleset.rules] == ["a"] and ruleset.rules[0].location.line == 2


def test_unknown_key_is_an_error_at_its_line(tmp_path):
    text = GOOD + "    severty: high\n"
    assert problems(tmp_path, text) == ["6:5: unknown key (check the spelling; unknown keys are errors)"]


def test_unknown_key_inside_a_condition(tmp_path):
    text = GOOD.replace("match: {keywords: [hacked]}", "match:\n      category: security\n      min_scor: 0.5")
    assert problems(tmp_path, text) == ["7:7: unknown key (check the spelling; unknown keys are errors)"]


def test_error_message_names_the_file(tmp_path):
    path = write_rules(tmp_path, GOOD + "    severty: high\n")
    with pytest.raises(ConfigError) as info:
        load_rules([path])
    assert str(info.value).startswith(f"{path}:6:5: rules.0.severty: unknown key")


def test_wrong_types_and_values(tmp_path):
    text = """\
    rules:
      - id: b
        title: B
        type: match
        severity: urgent
        match: {rating_at_most: 9}
    """
    got = problems(tmp_path, text)
    assert got[0].startswith("5:5: Input should be 'info', 'low', 'medium', 'high' or 'critical'")
    assert got[1] == "6:13: Input should be less than or equal to 5"


def test_unknown_rule_type_and_missing_type(tmp_path):
    text = """\
    rules:
      - id: c
        title: C
        type: treshold
      - id: d
        title: D
    """
    got = problems(tmp_path, text)
    assert got[0].startswith("4:5: unknown rule type 'treshold'")
    assert got[1].startswith("5:5: required key `type` is missing")


def test_string_or_list_errors_are_not_doubled(tmp_path):
    text = GOOD.replace("match: {keywords: [hacked]}", "match: {category: 5}")
    assert problems(tmp_path, text) == ["5:13: Input should be a valid string or a valid list"]


def test_keyword_language_keys_are_checked(tmp_path):
    text = GOOD.replace("match: {keywords: [hacked]}", "match:\n      keywords:\n        English: [hacked]")
    assert problems(tmp_path, text) == ["7:9: String should match pattern '^[a-z]{2,3}$'"]


def test_two_conditions_in_one_item_say_how_to_combine(tmp_path):
    text = GOOD.replace("match: {keywords: [hacked]}", "match: {keywords: [hacked], lang: en}")
    [msg] = problems(tmp_path, text)
    assert msg.startswith("5:5: one condition per item, found keywords, lang: combine conditions with all: or any:")


def test_unknown_condition(tmp_path):
    text = GOOD.replace("match: {keywords: [hacked]}", "match:\n      any:\n        - {keywrds: [x]}")
    [msg] = problems(tmp_path, text)
    assert msg.startswith("7:11: unknown condition keywrds; expected one of all, any, not, keywords")


def test_bad_regex_is_located(tmp_path):
    text = GOOD.replace("match: {keywords: [hacked]}", "match:\n      regex: ['ok', '(unclosed']")
    [msg] = problems(tmp_path, text)
    assert msg.startswith("6:21: invalid regular expression: missing ), unterminated subpattern")


def test_empty_keyword(tmp_path):
    text = GOOD.replace("[hacked]", "['hacked', '*']")
    assert problems(tmp_path, text) == ["5:34: keyword '*' is empty once normalised"]


def test_duplicate_ids_across_files(tmp_path):
    first = write_rules(tmp_path, GOOD, "one.yaml")
    write_rules(tmp_path, GOOD.replace("title: A", "title: again"), "two.yaml")
    with pytest.raises(ConfigError) as info:
        load_rules([tmp_path])
    [(loc, msg)] = info.value.problems
    assert (loc.file, loc.line, loc.column) == (str(tmp_path / "two.yaml"), 2, 5)
    assert msg == f"duplicate rule id 'a' (first defined at {first}:2:5: rules.0.id)"


def test_route_must_name_a_configured_channel(tmp_path):
    text = GOOD + "    route: [oncall, nowhere]\n"
    assert problems(tmp_path, text, channels={"oncall"}) == [
        "6:21: route names channel 'nowhere', which is not defined under channels in the config"]
    load_rules([write_rules(tmp_path, GOOD + "    route: [oncall]\n")], channels={"oncall"})


def test_window_and_parameter_sanity(tmp_path):
    text = """\
    rules:
      - id: t
        title: T
        type: threshold
        window: 7m
        min_count: 0
    """
    assert problems(tmp_path, text) == ["6:5: Input should be greater than or equal to 1"]
    text = """\
    rules:
      - id: t
        title: T
        type: threshold
        min_count: 3
        realert: 2h
        distinct_authors: true
        window: 3d
    """
    got = problems(tmp_path, text)
    assert got == ["6:5: realert (2h) must be shorter than resolve_after (1h): otherwise the incident resolves "
                   "during the cooldown and reopens after it",
                   "7:5: distinct authors are kept for 2d; use a shorter window or count posts"]
    flat = """\
    rules:
      - id: f
        title: F
        type: flatline
        window: 7m
        lookback: 5m
    """
    assert problems(tmp_path, flat) == ["5:5: window 7m must be a whole multiple of the detection bucket (5m)",
                                        "6:5: lookback must be longer than the window"]


def test_spike_parameters_are_validated(tmp_path):
    text = """\
    rules:
      - id: s
        title: S
        type: spike
        spike: {no_such_parameter: 1}
    """
    assert problems(tmp_path, text) == ["5:13: unknown key (check the spelling; unknown keys are errors)"]


def test_timeline_case_bucket_must_divide_the_window(tmp_path):
    text = """\
    rules:
      - id: t
        title: T
        type: threshold
        window: 15m
        min_count: 2
        tests:
          - posts: [{at: 0m, text: x}]
            bucket: 10m
    """
    assert problems(tmp_path, text) == ["9:9: the rule's window 15m is not a multiple of this case's bucket"]


def test_invalid_yaml_and_missing_paths(tmp_path):
    assert problems(tmp_path, "rules: [\n") [0].startswith("2:1: invalid YAML")
    with pytest.raises(ConfigError) as info:
        load_rules([tmp_path / "nope.yaml"])
    assert "no such rule file or folder" in str(info.value)


def test_a_list_at_the_top_is_explained(tmp_path):
    assert problems(tmp_path, "- id: a\n") == ["1:1: a rule file is a mapping with a `rules:` list"]


def test_warning_for_rules_without_tests(tmp_path):
    ruleset = load_rules([write_rules(tmp_path, GOOD)])
    assert ruleset.warnings and "rule 'a' has no tests" in ruleset.warnings[0]


def test_published_schema_is_up_to_date():
    published = builtin_rules_dir() / "schema.json"
    assert published.read_text(encoding="utf-8") == schema_text(), \
        "rules/schema.json is stale: run `monitor rules schema --write rules/schema.json`"


def test_shipped_packs_validate_against_the_published_schema():
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    validator = jsonschema.Draft202012Validator(rule_schema())
    files = sorted(builtin_rules_dir().glob("*.yaml"))
    assert len(files) >= 4
    for path in files:
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text("utf-8")))), path
    bad = {"rules": [{"id": "x", "title": "t", "type": "match", "match": {"keywords": ["a"]}, "typo": 1}]}
    assert list(validator.iter_errors(bad))


def test_schema_lists_every_rule_type():
    text = json.dumps(rule_schema())
    for kind in ("match", "threshold", "spike", "flatline", "new_term"):
        assert f'"const": "{kind}"' in text
