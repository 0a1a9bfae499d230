"""The HTML digest rendered by a real browser engine (headless Chromium, Debian's `chromium` package).

Skipped when /usr/bin/chromium is absent (install it with `apt-get install chromium`).
"""

import io
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from digest_data import END, populate
from monitor.digest.service import produce
from monitor.digest.settings import DigestSettings, Section

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--mute-audio", "--disable-extensions"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None,
    reason="headless Chromium not installed at /usr/bin/chromium (apt-get install chromium)")

# Appended to a copy of the page by the test (never part of a digest): after the page has loaded,
# record what the browser made of it in attributes that --dump-dom shows.
PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.map.call(document.images, function (i) { return i.naturalWidth; });
  document.documentElement.setAttribute("data-probe-images", imgs.join(","));
  document.documentElement.setAttribute("data-probe-width",
      String(document.querySelector("#digest-header").getBoundingClientRect().width));
});
</script>"""


def chromium(tmp_path, *args, timeout=60):
    """Run Chromium in its own process group with a fresh profile; kill the whole group on timeout."""
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"Chromium did not finish in {timeout}s (a dialog opened by post text would block it)")
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from monitor.store import open_store

    folder = tmp_path_factory.mktemp("chromium")
    store = open_store(folder / "d.db")
    populate(store)
    out = {}
    for lang in ("en", "zh"):
        settings = DigestSettings(lang=lang, max_items=30, cluster_min_size=1)  # every hostile post on show
        html = produce(store, settings, END, "Asia/Singapore").render("html", image_mode="data")
        page = folder / f"digest-{lang}.html"
        page.write_text(html, encoding="utf-8")
        probe = folder / f"probe-{lang}.html"
        probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        out[lang] = (page, probe)
    store.close()
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chromium_renders_every_section_and_runs_no_post_script(tmp_path, pages, lang):
    page, probe = pages[lang]
    result = chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    dom = result.stdout
    assert result.returncode == 0 and "</html>" in dom, result.stderr[-2000:]
    assert re.findall(r'data-section="([a-z]+)"', dom) == [s.value for s in Section]
    # the posts' <script> stayed text, even with scripts enabled (the probe's own script did run)
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert "&lt;script&gt;document.body.setAttribute" in dom
    widths = re.search(r'data-probe-images="([^"]*)"', dom).group(1).split(",")
    assert widths == ["960", "960", "960"]  # the three charts decoded from their data: URIs
    assert float(re.search(r'data-probe-width="([^"]*)"', dom).group(1)) <= 640


def test_chromium_screenshot_shows_the_digest(tmp_path, pages):
    from PIL import Image

    page, _ = pages["en"]
    shot = tmp_path / "digest.png"
    result = chromium(tmp_path, "--window-size=700,2200", f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    assert image.size == (700, 2200)
    header = image.getpixel((100, 30))
    assert header == (17, 24, 39)  # the dark header band (#111827): the inline styles applied
    colours = image.resize((140, 440)).getcolors(maxcolors=100_000)
    assert colours is not None and len(colours) > 200  # text and charts, not a blank page
