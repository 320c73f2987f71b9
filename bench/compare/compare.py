#!/usr/bin/env python3
"""The side-by-side comparison of issue 6: every workload against every
server, servers interleaved within each round, medians over the rounds.
Run it through bench/compare.sh, which builds the servers first."""
import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import machine  # noqa: E402
import procs  # noqa: E402
import report  # noqa: E402
import charts  # noqa: E402
import workloads as wl  # noqa: E402

METHOD = """\
- Each (workload, server) run starts a fresh server pinned to CPU(s)
  {server_cpu} and one client pinned to CPU(s) {client_cpu} (taskset); all
  traffic is on loopback. Layout: {layout}. Within a round every workload runs against every server before the
  next workload; the server order rotates by one each round. Figures are the
  median over {rounds} round(s); "±" is half the range over the median.
- Client: `ringsock load` for every server ({duration:g} s measured after
  {warmup:g} s of warmup), `sockperf ping-pong --full-rtt` for ringsock's
  sockperf responder (W2 *-sockperf rows; the peers have none), iperf3's own
  client against `iperf3 -s` for the W5 reference.
- Server CPU per message: utime+stime of the server process (all threads,
  io-wq workers included) read from /proc/PID/stat at two instants inside the
  client's measured window (10% of the window, at most 0.3 s, in from each
  end), divided by the wall time between them and by the client's measured
  message rate. Warmup, connection setup and teardown are thus outside the
  sample. Resolution is one clock tick (1/{clk} s) per sample. Loopback
  receive work done in softirq on the sender's CPU is charged to the sender,
  so "server CPU" is what the server process itself was charged.
- W4 UDP sink: the client sends as fast as it can (`--mode throughput`); the
  rate reported is the client's measured send rate minus the datagrams the
  server's own socket dropped on a full receive buffer (the drops column of
  /proc/net/udp for that port, over the sampled window), i.e. what the
  server received. Datagrams still queued at the end are counted as received.
  The client's raw send rate and the drop rate are in the JSON; a row drops
  more than 1% says so under Problems.
- W5: GB/s = 10^9 bytes/s written by the client (`mb_per_s_out`); CPU is per
  64 KiB write. W6: connections/s from `ringsock load --mode churn`; CPU per
  connection.
- Ratios: ringsock's rate over the best peer's (highest rate); CPU ratio over
  the lowest CPU per message of any peer; latency ratios over the lowest peer
  p50/p99. "!" marks a cell whose runs had client errors or verification
  failures (details under Problems).
"""


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/compare.sh", description=__doc__,
        epilog="bench/compare.sh itself also takes --no-deps (skip scripts/bench-deps.sh) and "
               "--no-build (use the build tree as it is). Servers: %s. Workloads: %s."
               % (", ".join(wl.ALL_SERVERS), ", ".join(w.id for w in wl.WORKLOADS)))
    p.add_argument("--build", default="build-bench", help="the Release build tree")
    p.add_argument("--rounds", type=int, default=None, help="rounds (default 3; --quick 1)")
    p.add_argument("--duration", type=float, default=None,
                   help="measured seconds per run (default 5; --quick 1)")
    p.add_argument("--warmup", type=float, default=None,
                   help="warmup seconds per run (default 1; --quick 0.2)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 1 round, short runs, fewer workloads")
    p.add_argument("--only", default="", help="workloads or groups, e.g. W1,W3 or W1-64B-c50")
    p.add_argument("--servers", default="", help="e.g. ringsock-uring,epoll,libuv")
    p.add_argument("--server-cpu", default="0",
                   help="CPU list for the server, as taskset takes it: 0, 0-3, 0,2 (default 0)")
    p.add_argument("--client-cpu", default="1",
                   help="CPU list for the client (default 1), its threads spread over it by "
                        "the scheduler")
    p.add_argument("--server-threads", type=int, default=1,
                   help="loops the server runs (default 1): ringsock serve --threads N, an "
                        "event-loop peer --threads N (a loop per thread, each with its own "
                        "SO_REUSEPORT socket); UNIX rows and iperf3 run only at 1")
    p.add_argument("--client-threads", type=int, default=1,
                   help="ringsock load --threads K (default 1): the server-bound layout on a "
                        "machine with cores to spare gives the client several")
    p.add_argument("--out", default="bench/results", help="where the report goes")
    p.add_argument("--keep-logs", action="store_true", help="keep the per-run logs directory")
    p.add_argument("--command", default="", help=argparse.SUPPRESS)  # as typed, from compare.sh
    p.add_argument("--skipped", action="append", default=[], help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.rounds = a.rounds or (1 if a.quick else 3)
    a.duration = a.duration or (1.0 if a.quick else 5.0)
    a.warmup = a.warmup if a.warmup is not None else (0.2 if a.quick else 1.0)
    if a.rounds < 1 or a.duration < 0.5 or a.warmup < 0:
        p.error("--rounds >= 1, --duration >= 0.5, --warmup >= 0")
    if not 1 <= a.server_threads <= 64 or not 1 <= a.client_threads <= 64:
        p.error("--server-threads and --client-threads: 1 to 64")
    for name in ("server_cpu", "client_cpu"):
        try:
            procs.parse_cpus(getattr(a, name))
        except ValueError:
            p.error("--%s: a CPU list such as 0, 2-9 or 0,2, not '%s'"
                    % (name.replace("_", "-"), getattr(a, name)))
    return a


def pick_servers(a, paths):
    names = [wl.server_name(s) for s in a.servers.split(",") if s.strip()] or list(wl.ALL_SERVERS)
    unknown = [s for s in names if s not in wl.ALL_SERVERS]
    if unknown:
        raise SystemExit("compare: unknown server(s) %s; known: %s" % (
            ", ".join(unknown), ", ".join(wl.ALL_SERVERS)))
    chosen, skipped = [], []
    for s in wl.ALL_SERVERS:  # a fixed order, whatever order they were named in
        if s not in names:
            continue
        ok, why = paths.available(s)
        if ok:
            chosen.append(s)
        else:
            print("compare: skipping %s: %s" % (s, why), flush=True)
            skipped.append("%s: %s" % (s, why))
    return chosen, skipped


def plan(a, servers, works):
    runs = []
    for r in range(a.rounds):
        for w in works:
            applicable = [s for s in servers
                          if w.applies_to(s) and wl.runs_with_threads(w, s, a.server_threads)]
            if not applicable:
                continue
            k = r % len(applicable)
            for s in applicable[k:] + applicable[:k]:
                runs.append((r + 1, w, s))
    return runs


def fix_cpus(a):
    usable = set(os.sched_getaffinity(0))
    for name in ("server_cpu", "client_cpu"):
        missing = [c for c in procs.parse_cpus(getattr(a, name)) if c not in usable]
        if missing:
            print("compare: CPU(s) %s of --%s are not usable here (have %s); not pinning"
                  % (missing, name.replace("_", "-"), sorted(usable)), flush=True)
            a.server_cpu = a.client_cpu = None
            return
    shared = set(procs.parse_cpus(a.server_cpu)) & set(procs.parse_cpus(a.client_cpu))
    if shared:
        print("compare: warning: server and client share CPU(s) %s" % sorted(shared), flush=True)


def layout(a):
    """Where the server and the client ran, in words, for the report."""
    peers = ("; a loop per thread, each with its own SO_REUSEPORT socket (peer-threads: a "
             "thread per connection)" if a.server_threads > 1 else "")
    return ("server on CPU(s) %s with %d loop(s)%s; client on CPU(s) %s with %d thread(s)"
            % (a.server_cpu, a.server_threads, peers, a.client_cpu, a.client_threads))


def write_outputs(a, root, info, servers, works, results, skipped, interrupted, ringsock):
    cells = report.aggregate(results)
    shown = [s for s in servers if any(k[1] == s for k in cells)]
    works = [w for w in works if any(k[0] == w.id for k in cells)]
    out = os.path.join(root, a.out) if not os.path.isabs(a.out) else a.out
    os.makedirs(out, exist_ok=True)
    host = "".join(c if c.isalnum() or c in "-_." else "-" for c in info["host"])
    # A narrowed run (--only, --servers) is named for it and never takes the
    # name of a full run; an existing file is never overwritten.
    narrowed = "-" + "-".join(w.id for w in works) if a.only or a.servers else ""
    stem = "%s-%s%s%s%s" % (datetime.date.today().isoformat(), host, "-quick" if a.quick else "",
                             narrowed[:80], "-partial" if interrupted else "")
    base, n = stem, 2
    while any(os.path.exists(os.path.join(out, stem + ext)) for ext in (".md", ".svg", ".json")):
        stem, n = "%s-%d" % (base, n), n + 1
    md_path = os.path.join(out, stem + ".md")
    svg_path = os.path.join(out, stem + ".svg")
    json_path = os.path.join(out, stem + ".json")

    title = "ringsock vs peers, %s, %s" % (datetime.date.today().isoformat(), info["host"])
    chart_problems = []
    why = charts.write_summary(ringsock, svg_path, cells, works, shown, title)
    if why:
        chart_problems.append("- summary chart not drawn: " + why)
    pages, failed = charts.write_workload_reports(ringsock, out, stem, results, works)
    chart_problems += ["- workload report not drawn: " + f for f in failed]
    tables = [
        "## Rate (median over rounds)\n\n" + report.rate_table(cells, works, shown),
        "## Server CPU microseconds per message\n\n" + report.cpu_table(cells, works, shown),
        "## Latency (W2), microseconds, full round trip\n\n"
        + report.latency_table(cells, works, shown),
    ]
    md = ["# ringsock vs peers: %s%s" % (datetime.date.today().isoformat(),
                                        " (INTERRUPTED, partial)" if interrupted else ""), ""]
    md.append("Command: `%s`" % (a.command or "bench/compare.sh " + " ".join(sys.argv[1:])))
    md.append("")
    md.append("## Machine\n")
    for k in ("host", "cpu", "cores", "virtualized", "memory", "kernel", "distro", "compiler",
              "build", "liburing", "sockperf", "iperf3", "commit"):
        md.append("- %s: %s" % (k, info[k]))
    md.append("- rounds %d, %g s measured + %g s warmup per run"
              % (a.rounds, a.duration, a.warmup))
    md.append("- layout: " + layout(a))
    if skipped:
        md.append("- not measured: " + "; ".join(skipped))
    md.append("")
    if os.path.exists(svg_path):
        md.append("![rates relative to the best peer](%s)" % os.path.basename(svg_path))
        md.append("")
    if pages:
        # Named, not linked: the pages stay out of git (.gitignore) like the raw JSON.
        md.append("Reports of each workload (every server's last round on the same axes), "
                  "written next to this file: " + ", ".join("`%s`" % n for n in pages.values()))
        md.append("")
    md += [t + "\n" for t in tables]
    md.append("## Targets (issue 6)\n")
    md += report.targets(cells, works, shown) or ["- nothing to check"]
    md.append("")
    md.append("## Workloads\n")
    for w in works:
        md.append("- %s: %s" % (w.id, w.title))
    md.append("")
    md.append("## Method\n")
    md.append(METHOD.format(server_cpu=a.server_cpu, client_cpu=a.client_cpu, layout=layout(a),
                            rounds=a.rounds,
                            duration=a.duration, warmup=a.warmup, clk=procs.CLK_TCK))
    probs = report.problems(cells) + chart_problems
    if probs:
        md.append("## Problems\n")
        md += probs
        md.append("")
    text = "\n".join(md)
    with open(md_path, "w") as f:
        f.write(text)
    with open(json_path, "w") as f:
        json.dump({"machine": info, "command": a.command, "rounds": a.rounds,
                   "duration": a.duration, "warmup": a.warmup,
                   "layout": {"server_cpus": a.server_cpu, "client_cpus": a.client_cpu,
                              "server_threads": a.server_threads,
                              "client_threads": a.client_threads, "text": layout(a)},
                   "runs": results}, f, indent=1)
    print()
    for t in tables:
        print(t + "\n")
    print("Targets:")
    print("\n".join(report.targets(cells, works, shown)))
    if probs:
        print("\nProblems:")
        print("\n".join(probs))
    print("\nwrote %s\n      %s\n      %s" % (md_path, svg_path, json_path))


def _terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv):
    a = parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = a.build if os.path.isabs(a.build) else os.path.join(root, a.build)
    paths = wl.Paths(build)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    fix_cpus(a)
    servers, skipped = pick_servers(a, paths)
    skipped += a.skipped
    works = wl.select(a.only, a.quick)
    if not servers or not works:
        raise SystemExit("compare: nothing to run")
    runs = plan(a, servers, works)
    per_run = a.duration + a.warmup + 0.6
    print("compare: %d runs (%d round(s) x %d workload(s) x up to %d server(s)), about %.0f min"
          % (len(runs), a.rounds, len(works), len(servers), len(runs) * per_run / 60), flush=True)
    info = machine.describe(root, build)
    tmpdir = tempfile.mkdtemp(prefix="ringsock-compare.")
    settings = wl.Settings(a.duration, a.warmup, a.server_cpu, a.client_cpu, tmpdir, paths,
                           a.server_threads, a.client_threads)
    results, interrupted = [], False
    try:
        for i, (rnd, w, s) in enumerate(runs, 1):
            rec = wl.run_one(w, s, settings, "r%d-%s-%s" % (rnd, w.id, s))
            rec["round"] = rnd
            results.append(rec)
            if rec["error"]:
                line = "ERROR " + rec["error"]
            else:
                line = "%s %s" % (report.fmt_rate(rec["rate"], w.metric),
                                  "round trips/s" if w.metric == "lat" else w.metric)
                if rec.get("lat"):
                    line += ", p50 %s p99 %s us" % (report.fmt_us(rec["lat"]["p50"]),
                                                    report.fmt_us(rec["lat"]["p99"]))
                line += ", server cpu %s us/msg" % report.fmt_us(rec["cpu_us"])
                if rec["notes"]:
                    line += " (" + "; ".join(rec["notes"]) + ")"
            print("[%d/%d r%d] %-16s %-15s %s" % (i, len(runs), rnd, w.id, s, line), flush=True)
    except KeyboardInterrupt:
        interrupted = True
        print("\ncompare: interrupted; reporting what was measured", flush=True)
    finally:
        procs.kill_all()
    # The logs go after the outputs: the workload reports read the load results in them.
    try:
        if results:
            write_outputs(a, root, info, servers, works, results, skipped, interrupted,
                          paths.ringsock)
    finally:
        if a.keep_logs:
            print("compare: logs in %s" % tmpdir)
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
