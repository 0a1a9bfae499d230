"""The rendered digest: sections, counts, escaping of hostile post text in every format, translation."""

import io
import json
import re
import warnings
from html.parser import HTMLParser

import pytest

from digest_data import END, populate
from monitor.digest import charts as charts_module
from monitor.digest.catalog import CATALOGS
from monitor.digest.i18n import Translator, placeholders
from monitor.digest.service import produce
from monitor.digest.settings import DigestSettings, Section

SECTIONS = [s.value for s in Section]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    from monitor.store import open_store

    store = open_store(tmp_path_factory.mktemp("render") / "d.db")
    populate(store)
    outs = {lang: produce(store, DigestSettings(name="daily", lang=lang), END, "Asia/Singapore")
            for lang in ("en", "zh")}
    # every complaint listed (singletons included), so that each hostile post is on show somewhere
    for lang in ("en", "zh"):
        outs[f"all-{lang}"] = produce(store, DigestSettings(lang=lang, max_items=30, cluster_min_size=1), END,
                                      "Asia/Singapore", charts=False)
    yield outs
    store.close()


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._stack.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    return p


def test_html_has_every_section_with_its_counts(outputs):
    html = outputs["en"].render("html")
    doc = parse(html)
    assert [a["data-section"] for _, a in doc.tags if "data-section" in a] == SECTIONS
    assert [a["data-cluster"] for _, a in doc.tags if "data-cluster" in a] == ["12", "7", "6", "2"]
    assert sum(1 for _, a in doc.tags if a.get("data-flagged") == "true") == 1
    assert sum(1 for _, a in doc.tags if "data-review" in a) == 5
    assert sum(1 for _, a in doc.tags if "data-security-item" in a) == 3
    assert [a["data-incident"] for _, a in doc.tags if "data-incident" in a] == ["2", "1"]
    text = " ".join(doc.text)
    assert "50 posts (+14% against 44 in the previous period)." in text
    assert "Time to acknowledge: median 30 min" in text and "okx-google-play 6.2.0: average 1.5★" in text
    images = [a["src"] for t, a in doc.tags if t == "img"]
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images)


def test_html_is_built_for_mail_clients(outputs):
    html = outputs["en"].render("html", image_mode="cid")
    doc = parse(html)
    tags = {t for t, _ in doc.tags}
    assert not tags & {"script", "style", "link", "iframe", "object", "embed", "form", "svg"}
    assert "table" in tags and "div" in tags
    assert not re.search(r"\bclass=", html)  # inline styles only: mail clients drop <style> blocks
    srcs = [a["src"] for t, a in doc.tags if t == "img"]
    assert srcs == [f"cid:{c.cid}" for c in outputs["en"].charts.values()]
    assert not re.search(r"(?i)(src|href)=\"(https?:)?//", html.replace('href="https://example.com', ""))


def test_every_hostile_post_is_on_show(outputs):
    text = outputs["all-en"].render("text")
    for needle in ("document.body.setAttribute", "javascript:alert(1)) to get", "!channel> everyone", "@\u200bhere my",
                   "**bold** _it_ `code` | pipe"):
        assert needle in text, needle


def test_hostile_post_text_is_inert_in_html(outputs):
    for lang in ("all-en", "all-zh", "en"):
        html = outputs[lang].render("html")
        doc = parse(html)
        assert not any(t == "script" for t, _ in doc.tags)
        assert not any(k.startswith("on") for _, a in doc.tags for k in a)  # no onerror=...
        hrefs = [a["href"] for t, a in doc.tags if t == "a"]
        assert hrefs and all(h.startswith("https://") for h in hrefs)
        assert "javascript:" not in " ".join(hrefs)
        # links are shown as plain URLs: the visible text of every link is the URL itself
        assert all(u in html for u in hrefs)
        assert "&lt;script&gt;document.body.setAttribute" in html
        if lang != "en":  # the default digest lists fewer posts
            assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
            assert "&lt;!channel&gt;" in html


def test_hostile_post_text_is_inert_in_markdown(outputs):
    for lang in ("all-en", "all-zh"):
        md = outputs[lang].render("md", image_mode="none")
        assert "<script" not in md and "<img" not in md and "<!channel>" not in md
        assert "&lt;script&gt;" in md and "&lt;\\!channel&gt;" in md
        assert "](javascript" not in md and "<javascript" not in md
        assert not re.search(r"(?<!\u200b)@here", md.replace("@\u200bhere", ""))
        assert "\\[click here\\]\\(javascript:alert\\(1\\)\\)" in md
        assert "\\*\\*bold\\*\\*" in md and "\\| pipe" in md
        links = re.findall(r"<(https?://[^>]*)>", md)
        assert links and all(link.startswith("https://example.com/") for link in links)


def test_hostile_post_text_is_inert_in_text_and_subject(outputs):
    for lang in ("all-en", "all-zh"):
        text = outputs[lang].render("text")
        assert "<!channel>" not in text and "<script>" not in text
        assert "<\u200b!channel>" in text and "<\u200bscript>" in text
        assert "@here" not in text and "@\u200bhere" in text
        assert "javascript:alert(1)\n" not in text  # the javascript: URL of a post is never shown as its link
        subject = outputs[lang].subject
        assert "\n" not in subject and subject


def test_markdown_and_text_have_every_section(outputs):
    t = Translator("en", "UTC")
    md = outputs["en"].render("md", image_mode="none")
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == \
        [t.t(f"section.{s}") for s in SECTIONS]
    text = outputs["en"].render("text")
    lines = text.splitlines()
    headings = [lines[i - 1] for i, line in enumerate(lines) if line and set(line) == {"="}]
    assert headings == [t.t(f"section.{s}") for s in SECTIONS]
    assert "1. 12 posts · Deposits & withdrawals" in text
    assert "| okx\\-google\\-play | 6\\.2\\.0 **sinking** | 8 | 1\\.5★ | 4\\.5★ |" in md


def test_json_carries_the_data(outputs):
    data = json.loads(outputs["en"].render("json"))
    assert data["volume"]["total"]["current"] == 50 and data["volume"]["total"]["change"] == pytest.approx(50 / 44 - 1)
    assert data["incidents"]["time_to_acknowledge"]["median"] == 1800
    assert data["charts"] == ["ratings", "sentiment", "volume"]
    assert data["period"]["end"] == "2026-03-02T00:00:00Z"


def test_chinese_digest_is_fully_translated(outputs):
    en, zh = Translator("en", "UTC"), Translator("zh", "UTC")
    for fmt in ("html", "md", "text"):
        out = outputs["zh"].render(fmt, image_mode="none")
        visible = " ".join(parse(out).text) if fmt == "html" else out
        for key in [k for k in CATALOGS["en"] if k.split(".")[0] in ("section", "col", "category", "severity",
                                                                      "state", "highlight")]:
            label = en.t(key).split("{")[0].strip()  # the words before the first placeholder
            if len(label) > 3:
                assert not re.search(rf"\b{re.escape(label)}\b", visible), (fmt, key)
        for s in SECTIONS:
            assert zh.t(f"section.{s}") in out
        assert "2026年3月1日 08:00 至 2026年3月2日 08:00" in out and "3月1日 09:00" in out
        assert "30分钟" in out and "4小时" in out
    html = outputs["zh"].render("html")
    assert '<html lang="zh-Hans">' in html
    assert "okx-google-play 6.2.0：平均评分 1.5★（8 条评价），商店基准为 4.5★。" in html


def test_catalogs_have_the_same_messages_and_placeholders():
    en, zh = CATALOGS["en"], CATALOGS["zh"]
    base = lambda keys: {k for k in keys if not k.endswith(".one")}  # noqa: E731 - English plural variants
    assert base(en) == base(zh)
    for key, message in en.items():
        other = zh[key.removesuffix(".one")]
        assert placeholders(message) == placeholders(other), key


def test_locale_formatting():
    from datetime import timedelta

    en, zh = Translator("en", "UTC"), Translator("zh", "UTC")
    assert en.num(12345) == "12,345" and en.signed_pct(-0.5) == "-50%" and en.stars(4.25) in ("4.2★", "4.3★")
    assert en.duration(timedelta(minutes=95)) == "1 hr 35 min" and zh.duration(timedelta(minutes=95)) == "1小时35分钟"
    assert en.duration(timedelta(days=3, hours=4)) == "3 days 4 hr" and zh.duration(timedelta(days=3)) == "3天"
    assert en.length(timedelta(days=7)) == "7 days" and zh.length(timedelta(hours=24)) == "24小时"
    assert en.t("clusters.count", count=1) == "1 post" and en.t("clusters.count", count=2) == "2 posts"
    assert zh.t("clusters.count", count=1) == "1 条"


def test_charts_are_png_and_degrade_to_tables(outputs, store):
    from PIL import Image

    charts = outputs["en"].charts
    assert set(charts) == {"volume", "sentiment", "ratings"}
    for chart in charts.values():
        image = Image.open(io.BytesIO(chart.png))
        assert image.format == "PNG" and image.width == 960 and image.height >= 240
        image.verify()
    # too little data: no chart, the numbers as a table instead
    populate(store)
    thin = produce(store, DigestSettings(sources=["okx-app-store"]), END, "UTC")
    assert thin.charts == {}
    html = thin.render("html")
    assert 'data-fallback="volume"' in html and 'data-fallback="sentiment"' in html and "<img" not in html
    md = thin.render("md", image_mode="none")
    assert "Too little data for a chart" in md and "| Mar 1 14:00 | 1 | Outage / technical 1 |" in md


@pytest.mark.parametrize("font", ["none", "installed"])
def test_chinese_charts_never_draw_missing_glyphs(outputs, monkeypatch, font):
    if font == "none":
        monkeypatch.setattr(charts_module, "cjk_font", lambda: None)
    elif charts_module.cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk or fonts-wqy-microhei)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        charts = charts_module.render_charts(outputs["zh"].digest, Translator("zh", "Asia/Singapore"))
    assert len(charts) == 3
    assert not [w for w in caught if "missing from font" in str(w.message)]
    expected = "Posts by main category" if font == "none" else "按主要类别的帖子数"
    assert charts["volume"].alt == expected


def test_chart_labels_from_stores_are_not_parsed_as_math(outputs):
    """An app version is store text: "$\\evil$" in it once made matplotlib raise and the digest fail."""
    from dataclasses import replace

    digest = outputs["en"].digest
    hostile = [replace(row, version=f"{row.version} $\\evil{{x}}$ $$") for row in digest.ratings.versions]
    charts = charts_module.render_charts(replace(digest, ratings=replace(digest.ratings, versions=hostile)),
                                         Translator("en", "UTC"))
    assert charts["ratings"].png.startswith(b"\x89PNG")


def test_unknown_format_is_an_error(outputs):
    with pytest.raises(ValueError, match="unknown digest format"):
        outputs["en"].render("pdf")
