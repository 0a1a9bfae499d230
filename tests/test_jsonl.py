import io

from monitor.jsonl import Rejected, post_to_object, read_posts


def parse(text: str, strict: bool = True):
    return list(read_posts(io.StringIO(text), lambda s: "file", strict=strict))


def test_valid_line_round_trips():
    line = ('{"source": "gp", "id": 42, "created_at": "2026-01-02T03:04:05+08:00", "text": "闪退", "rating": 1, '
            '"lang": "zh", "meta": {"thumbs_up": 3}, "author": "u", "title": "t", "url": "https://x", "app_version": "1.2"}\n')
    [(n, post)] = parse(line)
    assert n == 1 and post.external_id == "42" and post.created_at.isoformat() == "2026-01-01T19:04:05+00:00"
    assert post.rating == 1 and post.meta == {"thumbs_up": 3}
    again = post_to_object(post)
    assert again["created_at"] == "2026-01-01T19:04:05Z" and again["id"] == "42"


def test_bad_lines_are_reported_with_number_and_reason():
    text = "\n".join([
        '{"source": "a", "id": 1, "created_at": "2026-01-01T00:00:00Z", "text": "ok"}',
        '{not json',
        '{"source": "a", "id": 2, "created_at": "2026-01-01T00:00:00", "text": "no tz"}',
        '{"source": "a", "id": 3, "created_at": "2026-01-01T00:00:00Z"}',
        '{"source": "a", "id": 4, "created_at": "2026-01-01T00:00:00Z", "text": "x", "rating": 9}',
        '{"source": "a", "id": 5, "created_at": "2026-01-01T00:00:00Z", "text": "x", "txet": "typo"}',
        '[1, 2]',
        '',
        '{"source": "a", "id": true, "created_at": "2026-01-01T00:00:00Z", "text": "x"}',
    ])
    out = parse(text)
    rejected = {n: r.reason for n, r in out if isinstance(r, Rejected)}
    assert [n for n, r in out if not isinstance(r, Rejected)] == [1]
    assert rejected[2].startswith("invalid JSON")
    assert "no timezone" in rejected[3]
    assert rejected[4] == "missing required field: text"
    assert "rating must be an integer from 1 to 5" == rejected[5]
    assert "unknown field 'txet'" in rejected[6]
    assert rejected[7] == "each line must be a JSON object"
    assert 8 not in rejected  # blank lines are skipped
    assert rejected[9].startswith("id must be")


def test_lenient_mode_ignores_unknown_fields():
    [(_, post)] = parse('{"source": "a", "id": 1, "created_at": "2026-01-01T00:00:00Z", "text": "x", "extra": 1}',
                        strict=False)
    assert post.text == "x"
