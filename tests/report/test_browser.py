"""report.html (and the comparison page of ``ccsim compare RUN_A RUN_B --out``) in a real
browser: headless Chromium loads it without errors, every figure decodes and is visible,
and a scenario named ``<script>...`` shows as text.

A copy of the report gets a small probe script (the report itself has none) that records
``window.onerror`` events (script errors and resources that fail to load), any ``alert()``
call, and each image's decoded size and visibility into a ``<pre>`` element; Chromium's
``--dump-dom`` prints the DOM after the load event. Console messages are read from
Chromium's log (``--enable-logging=stderr``). A screenshot of the first screen of the
unmodified report is kept in ``tests/report/artifacts/`` (git-ignored).

Skipped when Chromium is not installed; CI (``.ci/run``) installs it from Debian packages.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from sim.report import build_compare_report, build_report
from tests.report.helpers import SCRIPT_NAME

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which(
    "chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not installed (/usr/bin/chromium); .ci/run installs it with "
           "apt-get install chromium")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", "--hide-scrollbars"]

PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var what = e.message || (e.target && (e.target.src || e.target.href) || "?");
  window.__errors.push("error: " + String(what).slice(0, 120));
}, true);
window.alert = function (m) { window.__errors.push("alert() called: " + m); };
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (im) {
    var r = im.getBoundingClientRect(), cs = getComputedStyle(im);
    return {alt: im.alt, complete: im.complete, naturalWidth: im.naturalWidth,
            naturalHeight: im.naturalHeight, width: r.width, height: r.height,
            display: cs.display, visibility: cs.visibility, opacity: cs.opacity};
  });
  var out = document.createElement("pre");
  out.id = "__probe";
  out.textContent = JSON.stringify({errors: window.__errors, images: images,
    h1: document.querySelector("h1").textContent, title: document.title,
    scripts: document.scripts.length});
  document.body.appendChild(out);
});
</script>"""


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def report(script_named_run) -> Path:
    return build_report(script_named_run)


@pytest.fixture(scope="module")
def comparison(careconnect_run, script_named_run, tmp_path_factory) -> Path:
    """The ``ccsim compare RUN_A RUN_B --out`` page, the run being the ``<script>`` one."""
    out = tmp_path_factory.mktemp("cmp") / "comparison.html"
    return build_compare_report(careconnect_run, script_named_run, out)[0]


@pytest.mark.parametrize("page", ["report", "comparison"])
def test_report_renders_in_headless_chromium(request, page, tmp_path):
    report = request.getfixturevalue(page)
    probe = tmp_path / "probe.html"
    text = report.read_text(encoding="utf-8")
    assert text.count("<head>") == 1
    probe.write_text(text.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    done = chromium(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000",
                     "--window-size=1280,900", "--dump-dom", probe.as_uri()],
                    tmp_path / "profile")
    found = re.search(r'<pre id="__probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the page did not finish loading:\n{done.stderr[-2000:]}"
    result = json.loads(html.unescape(found.group(1)))

    assert result["errors"] == []
    console = [ln for ln in done.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == [], console
    assert result["scripts"] == 1  # the probe only: nothing in the report ran
    if page == "report":
        assert result["h1"] == SCRIPT_NAME  # the <script> name is shown as text
    else:
        assert result["h1"].startswith(SCRIPT_NAME + " vs ")
    assert SCRIPT_NAME in result["title"]

    images = result["images"]
    assert len(images) == text.count("<img ")
    assert len(images) >= (8 if page == "report" else 2)
    for im in images:
        assert im["complete"] and im["naturalWidth"] > 0 and im["naturalHeight"] > 0, im
        assert im["width"] > 0 and im["height"] > 0, im
        assert im["display"] != "none" and im["visibility"] == "visible", im
        assert float(im["opacity"]) > 0, im


def test_first_screen_screenshot(report, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report_first_screen.png"
    shot.unlink(missing_ok=True)
    done = chromium([f"--screenshot={shot}", "--window-size=1280,900", report.as_uri()],
                    tmp_path / "profile")
    assert shot.is_file(), done.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (900, 1280)
    assert float(np.std(pixels)) > 0.01  # not a blank page
