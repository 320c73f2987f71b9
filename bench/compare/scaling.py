#!/usr/bin/env python3
"""The scaling table: the same comparison run at several server loop counts
(bench/compare.sh --server-threads N, once per N, as bench/scaling.sh does),
read back from the JSON results and set side by side. For each workload and
server: the median rate and server CPU per message at each N, and the rate
at the largest N over the rate at 1 (the scaling). The bar: ringsock's
scaling at least every peer's on each row.

  bench/compare/scaling.py RESULT.json... [--out FILE.md]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
from workloads import PEERS, RINGSOCK  # noqa: E402


def load(paths):
    """{threads: (cells, layout text, command)} from the JSON results; one file per N."""
    by_threads = {}
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        layout = doc.get("layout") or {"server_threads": 1, "text": "(not recorded)"}
        n = int(layout.get("server_threads", 1))
        if n in by_threads:
            raise SystemExit("scaling: two results at %d server loops (%s)" % (n, path))
        by_threads[n] = (report.aggregate(doc["runs"]), layout.get("text", ""),
                         doc.get("command", ""))
    if 1 not in by_threads or len(by_threads) < 2:
        raise SystemExit("scaling: need a result at 1 server loop and at least one more")
    return by_threads


def table(by_threads):
    counts = sorted(by_threads)
    top = counts[-1]
    rows = sorted({k for cells, _, _ in by_threads.values() for k in cells})
    head = ["workload", "server"] + ["rate @%d" % n for n in counts] + \
           ["cpu us/msg @%d" % n for n in counts] + ["scaling %d/1" % top]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    verdicts = []
    scaling = {}
    for wid, server in rows:
        cells = [by_threads[n][0].get((wid, server)) for n in counts]
        rates = [c.rate if c else None for c in cells]
        cpus = [c.cpu_us if c else None for c in cells]
        s = report.ratio(rates[-1], rates[0])
        scaling[(wid, server)] = s
        lines.append("| %s | %s | %s | %s | %s |" % (
            wid, server, " | ".join(report.fmt_rate(r, "") for r in rates),
            " | ".join(report.fmt_us(c) for c in cpus), "-" if s is None else "%.2fx" % s))
    for wid in sorted({w for w, _ in rows}):
        ours = [(s, v) for (w, s), v in scaling.items() if w == wid and s in RINGSOCK and v]
        peers = [(s, v) for (w, s), v in scaling.items() if w == wid and s in PEERS and v]
        if not ours or not peers:
            continue
        best = max(peers, key=lambda p: p[1])
        for name, v in ours:
            verdicts.append("- %s: %s scales %.2fx, best peer %s %.2fx: %s" % (
                wid, name, v, best[0], best[1], "met" if v >= best[1] else "NOT met"))
    return lines, verdicts


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", help="compare.sh JSON results, one per server loop count")
    p.add_argument("--out", default="", help="also write the Markdown here")
    a = p.parse_args(argv)
    by_threads = load(a.results)
    lines, verdicts = table(by_threads)
    md = ["# Scaling: server loops %s" % ", ".join(str(n) for n in sorted(by_threads)), ""]
    for n in sorted(by_threads):
        md.append("- %d loop(s): %s; `%s`" % (n, by_threads[n][1], by_threads[n][2]))
    md += ["", "Medians over the rounds of each run; rates in messages/s (connections/s for "
           "churn), server CPU in microseconds per message summed over the server's "
           "threads.", ""] + lines + ["", "## Bar: scaling at least every peer's",
                                                    ""] + (verdicts or ["- nothing to compare"])
    text = "\n".join(md) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
