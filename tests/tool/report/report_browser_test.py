#!/usr/bin/env python3
"""Description: opens the report's example pages in headless Chromium as a
person would: each page must load without a console message, every chart
must have both axes with ticks and titles and at least one data line with
one legend entry per line, two results must overlay on every chart, and a
screenshot of each page is kept for a person to look at.

usage: report_browser_test.py --pages PROGRAM --work DIR
       report_browser_test.py --ringsock RINGSOCK --work DIR

PROGRAM writes the example pages into a directory (report_example_pages).
With --ringsock, the page is a real one instead: `ringsock serve` on
loopback, one `ringsock load --json` on each backend, and `ringsock report`
of both (real.html); every chart it draws must overlay the two.
Exits 77 (skipped) when Chromium is not installed, 0 when every check holds,
1 otherwise. Every Chromium run is bounded by a timeout."""
import argparse
import html.parser
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = 77
CHROMIUM_TIMEOUT_S = 90
WINDOW = (1280, 4000)
# No network, no first-run work, no GPU: a page from a file and nothing else.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]
CONTROL_MESSAGE = "report-browser-test control message"

# The charts each page must draw (by their titles), and what must be in them.
SPECTRUM = "Latency by percentile"
LATENCY = "Latency per one-second interval"
THROUGHPUT = "Throughput per one-second interval"
ERRORS = "Errors and timeouts per one-second interval"
CONNECTIONS = "Connections open at the end of each interval"
PAGES = {
    "single.html": [SPECTRUM, LATENCY, THROUGHPUT, ERRORS],
    "overlay.html": [SPECTRUM, LATENCY, THROUGHPUT, ERRORS],
    "openloop.html": [SPECTRUM, LATENCY, THROUGHPUT, ERRORS],
    "churn.html": [SPECTRUM, LATENCY, THROUGHPUT, ERRORS, CONNECTIONS],
    "shards.html": [SPECTRUM, LATENCY, THROUGHPUT, ERRORS],
}
OVERLAID = ("uring", "epoll")  # the two results of overlay.html


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(browser, page, screenshot=None):
    """(DOM as text, stderr) of one headless run on a fresh profile."""
    profile = tempfile.mkdtemp(prefix="report-browser-profile-")
    args = [browser] + FLAGS + ["--user-data-dir=" + profile, "--dump-dom"]
    if screenshot:
        args += ["--screenshot=" + screenshot, "--window-size=%d,%d" % WINDOW]
    try:
        done = subprocess.run(args + ["file://" + os.path.abspath(page)], capture_output=True,
                              text=True, timeout=CHROMIUM_TIMEOUT_S, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError("chromium exited %d on %s:\n%s" % (done.returncode, page,
                                                               done.stderr[-2000:]))
    return done.stdout, done.stderr


def console_messages(stderr):
    """Chromium logs every console message (errors and warnings too) as CONSOLE."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


class Chart:
    def __init__(self):
        self.title = ""
        self.axes = set()          # "x", "y"
        self.ticks = {"x": 0, "y": 0}
        self.axis_titles = {}      # axis -> its title text
        self.lines = []            # (data-label, d)
        self.legend_entries = 0


class PageDom(html.parser.HTMLParser):
    """The charts of a page (svg.chart) and anything a self-contained page must not have."""

    def __init__(self):
        super().__init__()
        self.charts = []
        self.scripts = 0
        self.external = []         # attributes that would fetch something
        self.svg_depth = 0
        self.axis = None           # the axis group we are in
        self.text_kind = None      # "title", "tick" or "label" while inside such <text>

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href", "xlink:href", "srcset", "action"):
            if a.get(name):
                self.external.append("%s=%s" % (name, a[name]))
        if tag == "svg":
            if self.svg_depth == 0 and "chart" in cls:
                self.charts.append(Chart())
            self.svg_depth += 1
        if not self.svg_depth or not self.charts:
            return
        chart = self.charts[-1]
        if tag == "g" and "axis" in cls:
            self.axis = "x" if "x" in cls else "y" if "y" in cls else None
            if self.axis:
                chart.axes.add(self.axis)
        elif tag == "g" and "entry" in cls:
            chart.legend_entries += 1
        elif tag == "g":
            self.axis = None  # the lines or the legend: past the axes
        elif tag == "path" and "line" in cls:
            chart.lines.append((a.get("data-label", ""), a.get("d", "")))
        elif tag == "text":
            self.text_kind = next((k for k in ("title", "tick", "label") if k in cls), None)
            if self.text_kind == "tick" and self.axis:
                chart.ticks[self.axis] += 1

    def handle_endtag(self, tag):
        if tag == "svg" and self.svg_depth:
            self.svg_depth -= 1
        elif tag == "text":
            self.text_kind = None

    def handle_data(self, data):
        if not self.charts or not self.svg_depth or not self.text_kind:
            return
        chart = self.charts[-1]
        if self.text_kind == "title":
            chart.title += data
        elif self.text_kind == "label" and self.axis:
            chart.axis_titles[self.axis] = chart.axis_titles.get(self.axis, "") + data


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def check_chart(name, chart, problems):
    where = "%s: chart '%s'" % (name, chart.title)
    for axis in ("x", "y"):
        if axis not in chart.axes:
            problems.append("%s has no %s axis" % (where, axis))
        elif chart.ticks[axis] < 2:
            problems.append("%s: %s axis has %d tick labels" % (where, axis, chart.ticks[axis]))
        if not chart.axis_titles.get(axis, "").strip():
            problems.append("%s: %s axis has no title" % (where, axis))
    drawn = [label for label, d in chart.lines if "L" in d]
    if not drawn:
        problems.append("%s has no data line" % where)
    if chart.legend_entries != len(chart.lines):
        problems.append("%s: %d legend entries for %d lines" % (where, chart.legend_entries,
                                                                len(chart.lines)))


def check_page(name, dom, messages, screenshot):
    problems = []
    if messages:
        problems.append("%s: console messages:\n  %s" % (name, "\n  ".join(messages)))
    parser = PageDom()
    parser.feed(dom)
    if parser.scripts:
        problems.append("%s has %d <script> elements" % (name, parser.scripts))
    if parser.external:
        problems.append("%s would fetch: %s" % (name, ", ".join(parser.external)))
    titles = [c.title.strip() for c in parser.charts]
    if titles != PAGES[name]:
        problems.append("%s: charts %s, expected %s" % (name, titles, PAGES[name]))
    for chart in parser.charts:
        check_chart(name, chart, problems)
        labels = [label for label, _ in chart.lines]
        if name == "overlay.html":
            for result in OVERLAID:
                if not any(label.startswith(result) for label in labels):
                    problems.append("%s: chart '%s' has no line of %s: %s" % (
                        name, chart.title, result, labels))
            if len(chart.lines) < 2:
                problems.append("%s: chart '%s' has %d lines" % (name, chart.title,
                                                                 len(chart.lines)))
        if name == "shards.html" and chart.title == SPECTRUM:
            if labels != ["shard 1/4", "shard 2/4", "shard 3/4", "shard 4/4", "merged"]:
                problems.append("%s: spectrum lines %s" % (name, labels))
        if name == "openloop.html" and chart.title == SPECTRUM:
            if labels != ["corrected", "uncorrected"]:
                problems.append("%s: spectrum lines %s" % (name, labels))
    size = png_size(screenshot) if os.path.exists(screenshot) else None
    if size != WINDOW:
        problems.append("%s: screenshot %s is %s, expected %s" % (name, screenshot, size, WINDOW))
    elif os.path.getsize(screenshot) < 20_000:  # a blank page compresses to a few KB
        problems.append("%s: screenshot %s looks blank" % (name, screenshot))
    return problems


REAL_PAGE = "real.html"
RUN_TIMEOUT_S = 60


def make_real_page(ringsock, work):
    """Serve, load on each backend that starts, report; the page's path."""
    server = subprocess.Popen([ringsock, "serve", "tcp://127.0.0.1:0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()  # "listening tcp://127.0.0.1:PORT"
        if not line.startswith("listening "):
            raise RuntimeError("ringsock serve did not start: %r" % line)
        url = line.split()[1]
        inputs = []
        for backend in OVERLAID:
            result = os.path.join(work, backend + ".json")
            subprocess.run([ringsock, "load", url, "--backend", backend, "--connections", "2",
                            "--duration", "2s", "--json", result, "--assert", "errors=0"],
                           check=True, timeout=RUN_TIMEOUT_S, stdout=subprocess.DEVNULL)
            inputs.append("%s=%s" % (backend, result))
    finally:
        server.terminate()
        server.wait(timeout=RUN_TIMEOUT_S)
    page = os.path.join(work, REAL_PAGE)
    subprocess.run([ringsock, "report"] + inputs + ["-o", page], check=True, timeout=RUN_TIMEOUT_S)
    return page


def check_real_page(dom, messages, screenshot):
    """Like check_page, but the charts are whatever the real results have data for."""
    problems = []
    if messages:
        problems.append("%s: console messages:\n  %s" % (REAL_PAGE, "\n  ".join(messages)))
    parser = PageDom()
    parser.feed(dom)
    if parser.scripts or parser.external:
        problems.append("%s has scripts or would fetch: %s" % (REAL_PAGE, parser.external))
    titles = [c.title.strip() for c in parser.charts]
    if not titles or titles[0] != SPECTRUM:
        problems.append("%s: charts %s, expected %s first" % (REAL_PAGE, titles, SPECTRUM))
    for chart in parser.charts:
        check_chart(REAL_PAGE, chart, problems)
        labels = [label for label, _ in chart.lines]
        for result in OVERLAID:
            if not any(label.startswith(result) for label in labels):
                problems.append("%s: chart '%s' has no line of %s: %s" % (
                    REAL_PAGE, chart.title, result, labels))
    size = png_size(screenshot) if os.path.exists(screenshot) else None
    if size != WINDOW:
        problems.append("%s: screenshot %s is %s, expected %s" % (REAL_PAGE, screenshot, size, WINDOW))
    return problems


def control_works(browser, work):
    """The console check must be able to fail: a page that logs must be caught."""
    page = os.path.join(work, "control.html")
    with open(page, "w") as f:
        f.write('<!DOCTYPE html><html><body><p>control</p><script>console.error("%s")'
                '</script></body></html>\n' % CONTROL_MESSAGE)
    _, stderr = run_chromium(browser, page)
    return any(CONTROL_MESSAGE in m for m in console_messages(stderr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages")
    ap.add_argument("--ringsock")
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if bool(args.pages) == bool(args.ringsock):
        ap.error("give one of --pages and --ringsock")
    browser = find_chromium()
    if browser is None:
        print("SKIPPED: chromium is not installed (scripts/browser-deps.sh installs it)")
        return SKIP
    os.makedirs(args.work, exist_ok=True)
    if not control_works(browser, args.work):
        print("FAIL: a console.error of a control page was not seen; the console check is blind")
        return 1
    if args.ringsock:
        for backend in OVERLAID:
            probe = subprocess.run([args.ringsock, "probe"], capture_output=True, text=True,
                                   timeout=RUN_TIMEOUT_S, check=False)
            if not any(l.split()[:2] == [backend + ":", backend] for l in probe.stdout.splitlines()):
                print("SKIPPED: no %s loop here" % backend)
                return SKIP
        page = make_real_page(args.ringsock, args.work)
        screenshot = page.replace(".html", ".png")
        dom, stderr = run_chromium(browser, page, screenshot)
        problems = check_real_page(dom, console_messages(stderr), screenshot)
        print("%s: %s (screenshot %s)" % (REAL_PAGE, "FAIL" if problems else "ok", screenshot))
        for p in problems:
            print("FAIL: " + p)
        return 1 if problems else 0
    subprocess.run([args.pages, args.work], check=True, timeout=60)
    problems = []
    for name in PAGES:
        page = os.path.join(args.work, name)
        screenshot = os.path.join(args.work, name.replace(".html", ".png"))
        if os.path.exists(screenshot):
            os.remove(screenshot)
        dom, stderr = run_chromium(browser, page, screenshot)
        found = check_page(name, dom, console_messages(stderr), screenshot)
        print("%s: %s (screenshot %s)" % (name, "FAIL" if found else "ok", screenshot))
        problems += found
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
