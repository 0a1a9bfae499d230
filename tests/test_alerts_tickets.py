"""Jira and GitHub Issues channels: one issue per incident, comments, close, and no duplicate
issue or comment when a retry follows a lost answer."""

import json

import pytest
from alert_peers import GitHubPeer, JiraPeer
from alert_samples import HOSTILE, incident_notification

from monitor.alerts.base import CHANNELS
from monitor.alerts.channels.jira import wiki
from monitor.alerts.payload import marker
from monitor.errors import DeliveryError, PermanentDeliveryError


@pytest.fixture
def jira_peer():
    peer = JiraPeer()
    yield peer
    peer.close()


@pytest.fixture
def gh_peer():
    peer = GitHubPeer()
    yield peer
    peer.close()


def channel(type_: str, **options):
    cls = CHANNELS.get(type_)
    return cls("c", cls.Options.model_validate(options))


def jira(peer: JiraPeer, **extra):
    return channel("jira", base_url=peer.url, project="OPS", email="bot@example.com", api_token="jira-token-1", **extra)


def test_jira_issue_per_incident_with_comments_and_a_resolve_transition(jira_peer):
    j = jira(jira_peer, labels=["monitor", "funds"])
    refs = j.deliver(incident_notification("trigger", title="t" * 400))
    assert refs == {"issue": "OPS-1"}
    j.deliver(incident_notification("update", notification_id=2), refs)
    j.deliver(incident_notification("resolve", notification_id=3), refs)
    [(key, issue)] = jira_peer.issues.items()
    fields = issue["fields"]
    assert key == "OPS-1" and len(fields["summary"]) == 255 and fields["priority"] == {"name": "High"}
    assert fields["labels"] == ["monitor", "funds", marker(incident_notification().dedup_key)]
    assert fields["description"]["type"] == "doc"
    # ADF text nodes are plain text: the post's markup stays text, no marks or links are made
    assert HOSTILE in json.dumps(fields["description"], ensure_ascii=False)
    assert '"marks"' not in json.dumps(fields["description"]) and '"link"' not in json.dumps(fields["description"])
    assert len(issue["comments"]) == 2 and issue["status"]["name"] == "Done" and issue["transitioned"] == ["Done"]
    # a repeated resolve (e.g. a retry) neither transitions again nor fails
    j.deliver(incident_notification("resolve", notification_id=3, attempts=2), refs)
    assert issue["transitioned"] == ["Done"] and len(issue["comments"]) == 2


def test_jira_retry_after_a_lost_answer_finds_the_issue_and_the_comment(jira_peer):
    j = jira(jira_peer)
    first = j.deliver(incident_notification("trigger"))
    # the answer was lost (crash or timeout), so the refs were never stored: the retry searches the label
    again = j.deliver(incident_notification("trigger", attempts=2))
    assert again == first and len(jira_peer.issues) == 1
    j.deliver(incident_notification("update", notification_id=9), first)
    j.deliver(incident_notification("update", notification_id=9, attempts=2), first)
    assert len(jira_peer.issues["OPS-1"]["comments"]) == 1
    searches = [r for r in jira_peer.requests if r.path.endswith("/search/jql")]
    assert searches and 'labels = "monitor-' in searches[0].query["jql"][0]


def test_jira_update_without_a_known_issue_opens_one_and_a_stray_resolve_opens_none(jira_peer):
    j = jira(jira_peer)
    assert j.deliver(incident_notification("resolve", notification_id=3)) == {}
    assert jira_peer.issues == {}
    assert j.deliver(incident_notification("update", notification_id=2)) == {"issue": "OPS-1"}


def test_jira_v2_uses_wiki_text_with_markup_escaped(jira_peer):
    j = jira(jira_peer, api_version=2, priorities={})
    j.deliver(incident_notification("trigger"))
    description = jira_peer.issues["OPS-1"]["fields"]["description"]
    assert isinstance(description, str) and "priority" not in jira_peer.issues["OPS-1"]["fields"]
    assert "\\{color:red\\}" in description and "\\[\\~admin\\]" in description and "[~admin]" not in description
    assert wiki("[link|http://x]") == "\\[link\\|http://x\\]"


def test_jira_errors_and_auth(jira_peer):
    j = jira(jira_peer)
    jira_peer.fail_next(503)
    with pytest.raises(DeliveryError) as exc:
        j.deliver(incident_notification())
    assert not isinstance(exc.value, PermanentDeliveryError)
    with pytest.raises(PermanentDeliveryError, match="valid project"):
        channel("jira", base_url=jira_peer.url, project="NOPE", email="bot@example.com",
                api_token="jira-token-1").deliver(incident_notification())
    with pytest.raises(PermanentDeliveryError, match="401"):
        channel("jira", base_url=jira_peer.url, project="OPS", email="bot@example.com",
                api_token="wrong").deliver(incident_notification())
    refs = j.deliver(incident_notification("trigger"))
    with pytest.raises(PermanentDeliveryError, match="no transition 'Closed'.*Done"):
        jira(jira_peer, resolve_transition="Closed").deliver(incident_notification("resolve"), refs)


def test_jira_options_need_auth_and_forbid_spaces_in_labels():
    cls = CHANNELS.get("jira")
    with pytest.raises(ValueError, match="api_token"):
        cls.Options.model_validate({"base_url": "https://x.atlassian.net", "project": "OPS"})
    with pytest.raises(ValueError, match="spaces"):
        cls.Options.model_validate({"base_url": "https://x", "project": "OPS", "bearer_token": "t",
                                    "labels": ["two words"]})


def test_github_issue_comment_close_and_no_duplicates_on_retry(gh_peer):
    gh = channel("github", base_url=gh_peer.url, repo="acme/support", token="ghp_test_token")
    refs = gh.deliver(incident_notification("trigger"))
    assert refs == {"issue": "1"}
    assert gh.deliver(incident_notification("trigger", attempts=2)) == refs  # found by its label
    gh.deliver(incident_notification("update", notification_id=2), refs)
    gh.deliver(incident_notification("update", notification_id=2, attempts=2), refs)  # the marker is found
    gh.deliver(incident_notification("resolve", notification_id=3), refs)
    [issue] = gh_peer.issues.values()
    assert len(gh_peer.issues) == 1 and issue["state"] == "closed" and len(issue["comment_list"]) == 2
    assert {label["name"] for label in issue["labels"]} == {"feedback-monitor", marker(incident_notification().dedup_key)}
    body = issue["body"]
    # mentions, issue references, links and HTML from the post are all defused
    assert "@\u200balice" in body and "@alice" not in body and "#\u200b12" in body
    assert "[click](http" not in body and "<script>" not in body


def test_github_rate_limit_is_retried_after_the_reset(gh_peer):
    gh = channel("github", base_url=gh_peer.url, repo="acme/support", token="ghp_test_token")
    gh_peer.fail_next(403, {"x-ratelimit-remaining": "0", "retry-after": "60"}, {"message": "rate limit"})
    with pytest.raises(DeliveryError) as exc:
        gh.deliver(incident_notification())
    assert exc.value.retry_after == 60 and not isinstance(exc.value, PermanentDeliveryError)
    bad = channel("github", base_url=gh_peer.url, repo="acme/support", token="nope")
    with pytest.raises(PermanentDeliveryError, match="Bad credentials"):
        bad.deliver(incident_notification())
    assert json.loads(gh_peer.requests[0].body)["title"].startswith("[FIRING] HIGH:")


def test_github_body_does_not_let_html_entities_spell_mentions_or_references(gh_peer):
    # Markdown decodes entities: `&commat;alice` renders as @alice (a mention), `&num;12` as #12
    gh = channel("github", base_url=gh_peer.url, repo="acme/support", token="ghp_test_token")
    gh.deliver(incident_notification("trigger", title="&commat;alice &num;12 &#64;bob &amp; co"))
    body = gh_peer.issues[1]["body"]
    assert "\\&commat;alice" in body and "\\&num;12" in body and "\\&amp; co" in body
    for entity in ("&commat;", "&num;", "&amp;"):
        assert entity not in body.replace("\\" + entity, "")
