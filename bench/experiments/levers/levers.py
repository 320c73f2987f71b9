#!/usr/bin/env python3
"""Measures each io_uring lever of lever_server: every variant flips
one lever of the defaults (the best-known configuration) and runs against the
same workloads as bench/compare, interleaved with the baseline within each
round. Reports per variant the median rate, the median server CPU per message,
their spread, and the ratio to the baseline (median of the per-round ratios).

It reuses bench/compare (workloads.py: the workload definitions and one
measured run; procs.py: pinned, time-bounded children and the /proc CPU
window); lever_server follows the peers' command-line contract, so only the
server's argv differs.

  python3 bench/experiments/levers/levers.py --quick          # smoke run, about 1.5 min
  python3 bench/experiments/levers/levers.py                  # 5 rounds, about 11 min
"""
import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "bench", "compare"))

import machine  # noqa: E402
import procs  # noqa: E402
import report  # noqa: E402
import workloads as wl  # noqa: E402

BASELINE = "baseline"

# (workload id in bench/compare/workloads.py, variant, lever_server flags, what it flips).
VARIANTS = [
    ("W1-64B-c50", BASELINE, [], "defaults: defer, reg ring, multishot+bundle 4 KiB x 512, batch sends"),
    ("W1-64B-c50", "no-bundle", ["--no-bundle"], "multishot recv without bundles"),
    ("W1-64B-c50", "inc-64k", ["--inc", "--buffer-size", "65536"], "incremental 64 KiB buffers (no bundle)"),
    ("W1-64B-c50", "skip-success", ["--skip-success"], "per turn one MSG_DONTWAIT send/conn, CQE_SKIP_SUCCESS"),
    ("W1-64B-c50", "per-chunk-sends", ["--per-chunk-sends"], "one send per received chunk, one in flight"),
    ("W1-64B-c50", "parallel-sends", ["--parallel-sends"], "one send per chunk at once, many in flight"),
    ("W1-64B-c50", "direct", ["--direct"], "direct descriptors (accept into a sparse table)"),
    ("W1-64B-c50", "setup-coop", ["--setup", "coop"], "COOP_TASKRUN instead of SINGLE_ISSUER|DEFER_TASKRUN"),
    ("W1-64B-c50", "setup-none", ["--setup", "none"], "no task-run setup flags"),
    ("W1-64B-c50", "no-reg-ring", ["--no-reg-ring"], "ring fd not registered"),
    ("W1-64B-c50", "submit-each", ["--submit-each"], "io_uring_submit after every SQE"),
    ("W1-64B-c50", "single-recv", ["--single-recv"], "re-armed single recv, per-connection 4 KiB buffer"),
    ("W1-64B-c50", "send-bundle", ["--send-bundle"], "send bundles from a per-connection ring of the received buffers"),
    ("W1-64B-c50", "no-sqarray", ["--no-sqarray"], "no SQ index array (IORING_SETUP_NO_SQARRAY)"),
    ("W1-64B-c50", "skip+direct", ["--skip-success", "--direct"], "two levers together"),
    ("W1-512B-c50", BASELINE, [], "defaults: received bytes copied into the connection's batch"),
    ("W1-512B-c50", "send-bundle", ["--send-bundle"], "send bundles from a per-connection ring of the received buffers"),
    # 500 connections x 1: Asio on io_uring leads here (bench/wakeups.py says why).
    ("W1-64B-c500", BASELINE, [], "defaults: multishot recv, always armed"),
    ("W1-64B-c500", "single-recv", ["--single-recv"], "re-armed single recv with the reply's send"),
    ("W1-64B-c500", "recv-after-send", ["--recv-after-send"], "single recv once the reply is sent (Asio's order)"),
    ("W1-64B-c500", "send-bundle", ["--send-bundle"], "send bundles from a per-connection ring of the received buffers"),
    ("W1-64B-c500", "no-sqarray", ["--no-sqarray"], "no SQ index array (IORING_SETUP_NO_SQARRAY)"),
    ("W1-64B-c500", "min-wait-50", ["--min-wait", "50"], "each wait: 32 CQEs or 50 us (min_wait_usec)"),
    ("W1-64B-c500", "recv-delay-1000", ["--recv-after-send", "--recv-delay", "1000"], "single recv 1 ms after the reply"),
    ("W1-64B-c500", "recv-delay-2000", ["--recv-after-send", "--recv-delay", "2000"], "single recv 2 ms after the reply"),
    ("W5-bulk", BASELINE, [], "defaults: bundle, 4 KiB x 512"),
    ("W5-bulk", "no-bundle", ["--no-bundle"], "4 KiB buffers, one per completion"),
    ("W5-bulk", "bundle-64k", ["--buffer-size", "65536"], "bundle, 64 KiB x 512"),
    ("W5-bulk", "no-bundle-64k", ["--no-bundle", "--buffer-size", "65536"], "64 KiB buffers, no bundle"),
    ("W5-bulk", "inc-64k", ["--inc", "--buffer-size", "65536"], "incremental 64 KiB buffers (no bundle)"),
    ("W5-bulk", "single-recv-64k", ["--single-recv", "--buffer-size", "65536"], "re-armed single recv, 64 KiB"),
    ("W5-bulk", "direct", ["--direct"], "direct descriptors"),
    ("W5-bulk", "setup-none", ["--setup", "none"], "no task-run setup flags"),
    ("W2-tcp", BASELINE, [], "defaults, block in submit_and_wait"),
    ("W2-tcp", "busy-poll-10", ["--busy-poll", "10"], "spin up to 10 us before blocking"),
    ("W2-tcp", "busy-poll-50", ["--busy-poll", "50"], "spin up to 50 us before blocking"),
    ("W2-tcp", "busy-poll-200", ["--busy-poll", "200"], "spin up to 200 us before blocking"),
    ("W4-udp-sink", BASELINE, [], "multishot recv, 4 KiB x 512 ring"),
    ("W4-udp-sink", "single-recv", ["--single-recv"], "re-armed single recv"),
    ("W4-udp-sink", "setup-none", ["--setup", "none"], "no task-run setup flags"),
    ("W4-udp-sink", "no-reg-ring", ["--no-reg-ring"], "ring fd not registered"),
]
WORKLOAD_ORDER = ["W1-64B-c50", "W1-512B-c50", "W1-64B-c500", "W5-bulk", "W2-tcp", "W4-udp-sink"]

_flags = {}  # variant key -> lever_server flags, for the argv hook below


def _lever_argv(paths, server, mode, ep, port, threads=1):
    """bench/compare's server_argv for lever_server: `--mode M ENDPOINT` plus
    the variant's flags (the same contract as the peers); one process, with
    --server-threads N rings on N threads of it (SO_REUSEPORT sockets)."""
    more = ["--threads", str(threads)] if threads > 1 else []
    return [paths.lever_server, "--mode", mode] + more + _flags[server] + [ep], ["ready"]


wl.server_argv = _lever_argv  # run_one builds the server's argv through this hook


class Paths(wl.Paths):
    def __init__(self, build):
        super().__init__(build)
        self.lever_server = os.path.join(build, "bench", "experiments", "levers", "lever_server")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/experiments/levers/levers.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build-levers", help="Release build tree (default build-levers)")
    p.add_argument("--rounds", type=int, default=None, help="rounds (default 5; --quick 1)")
    p.add_argument("--duration", type=float, default=None, help="measured s per run (default 3; --quick 1)")
    p.add_argument("--warmup", type=float, default=None, help="warmup s per run (default 1; --quick 0.3)")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round, short runs")
    p.add_argument("--only", default="", help="workloads, e.g. W1-64B-c50,W5-bulk")
    p.add_argument("--variants", default="", help="variants (the baseline always runs), e.g. direct,skip-success")
    p.add_argument("--server-cpu", default="0", help="CPU list, as taskset takes it (default 0)")
    p.add_argument("--client-cpu", default="1", help="CPU list (default 1)")
    p.add_argument("--server-threads", type=int, default=1,
                   help="rings of lever_server, one per thread (default 1)")
    p.add_argument("--out", default="", help="Markdown report (default: print only); a .json goes next to it")
    p.add_argument("--keep-logs", action="store_true")
    a = p.parse_args(argv)
    a.rounds = a.rounds or (1 if a.quick else 5)
    a.duration = a.duration or (1.0 if a.quick else 3.0)
    a.warmup = a.warmup if a.warmup is not None else (0.3 if a.quick else 1.0)
    return a


def chosen_variants(a):
    works = [w.strip() for w in a.only.split(",") if w.strip()] or WORKLOAD_ORDER
    names = {v.strip() for v in a.variants.split(",") if v.strip()}
    known = {v[1] for v in VARIANTS}
    unknown = [w for w in works if w not in WORKLOAD_ORDER] + sorted(names - known)
    if unknown:
        raise SystemExit("levers: unknown %s; workloads: %s; variants: %s" % (
            ", ".join(unknown), ", ".join(WORKLOAD_ORDER), ", ".join(sorted(known))))
    out = [v for v in VARIANTS if v[0] in works and (v[1] == BASELINE or not names or v[1] in names)]
    for wid, name, flags, _ in out:
        _flags[key(wid, name)] = flags
    return works, out


def key(wid, name):
    return "%s/%s" % (wid, name)


_COUNTERS = re.compile(r"bytes_in (\d+)")
_LEVERS = re.compile(r"levers: cqes (\d+), turns (\d+), enters (\d+), send_errors (\d+)")


def server_counters(path, size):
    """CQEs and io_uring_enter calls per client message over the whole run
    (from the server's counters line), and its send errors."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return {}
    b, m = _COUNTERS.search(text), _LEVERS.search(text)
    if not b or not m or int(b.group(1)) == 0:
        return {}
    msgs = int(b.group(1)) / float(size)
    return {"cqes_per_msg": int(m.group(1)) / msgs, "enters_per_msg": int(m.group(3)) / msgs,
            "server_send_errors": int(m.group(4))}


def valid(rec):
    return (rec.get("error") is None and not rec.get("errors") and not rec.get("verification_failures")
            and not rec.get("server_send_errors"))


def run_all(a, works, variants, paths, tmpdir):
    by_work = {w.id: w for w in wl.WORKLOADS}
    settings = wl.Settings(a.duration, a.warmup, a.server_cpu, a.client_cpu, tmpdir, paths,
                           server_threads=a.server_threads)
    plan = []
    for rnd in range(1, a.rounds + 1):
        for wid in works:
            vs = [v for v in variants if v[0] == wid]
            shift = (rnd - 1) % len(vs)
            plan += [(rnd, by_work[wid], v) for v in vs[shift:] + vs[:shift]]
    per_run = a.duration + a.warmup + 0.8
    print("levers: %d runs, about %.1f min" % (len(plan), len(plan) * per_run / 60), flush=True)
    results = []
    for i, (rnd, w, (wid, name, flags, _)) in enumerate(plan, 1):
        tag = "r%d-%s-%s" % (rnd, wid, name)
        rec = wl.run_one(w, key(wid, name), settings, tag)
        size = int(w.load_args[w.load_args.index("--size") + 1])
        rec.update(server_counters(os.path.join(tmpdir, tag + ".srv.out"), size))
        rec.update({"round": rnd, "variant": name, "flags": flags})
        results.append(rec)
        line = "ERROR " + rec["error"] if rec["error"] else "rate %.4g, cpu %s us/msg" % (
            rec["rate"] or 0, "%.3f" % rec["cpu_us"] if rec["cpu_us"] else "-")
        if rec.get("lat"):
            line += ", p50 %.1f p99 %.1f us" % (rec["lat"]["p50"], rec["lat"]["p99"])
        if rec.get("cqes_per_msg"):
            line += ", %.2f cqe/msg" % rec["cqes_per_msg"]
        if not valid(rec):
            line += " INVALID"
        if rec["notes"]:
            line += " (" + "; ".join(rec["notes"]) + ")"
        print("[%d/%d r%d] %-12s %-16s %s" % (i, len(plan), rnd, wid, name, line), flush=True)
    return results


# ---------------------------------------------------------------- report

_med = report.median


def _spread(xs):
    """Half the range over the median, in percent (report.spread gives a fraction)."""
    s = report.spread(xs)
    return None if s is None else 100.0 * s


def _paired(results, wid, name, field):
    """Per-round ratio variant/baseline (both valid), then their median and spread."""
    base = {r["round"]: r for r in results if r["workload"] == wid and r["variant"] == BASELINE and valid(r)}
    ratios = []
    for r in results:
        if r["workload"] == wid and r["variant"] == name and valid(r) and r["round"] in base:
            x, y = field(r), field(base[r["round"]])
            if x and y:
                ratios.append(x / y)
    return _med(ratios), _spread(ratios)


def _f(x, fmt="%.3g", none="-"):
    return none if x is None else fmt % x


def _rate(x):
    if x is None:
        return "-"
    # Thresholds at what rounds to 1000 of the smaller unit: 999.7k reads 1M, not 1e+03k.
    if x >= 999.5e3:
        return "%.3gM" % (x / 1e6)
    if x >= 999.5:
        return "%.3gk" % (x / 1e3)
    return "%.3g" % x


def _pm(spread):
    return "" if spread is None else " ±%.0f%%" % spread


def _ratio(pair):
    m, s = pair
    if m is None:
        return "-"
    return "%.2fx" % m + (" ±%.0f%%" % s if s is not None else "")


def summarize(results, works, variants):
    rows = []
    for wid in works:
        for _, name, flags, what in [v for v in variants if v[0] == wid]:
            rs = [r for r in results if r["workload"] == wid and r["variant"] == name]
            ok = [r for r in rs if valid(r)]
            rate = [r["rate"] for r in ok if r["rate"]]
            cpu = [r["cpu_us"] for r in ok if r["cpu_us"]]
            row = {"workload": wid, "variant": name, "flags": flags, "what": what, "runs": len(rs),
                   "invalid": len(rs) - len(ok), "rate": _med(rate), "rate_spread": _spread(rate),
                   "cpu_us": _med(cpu), "cpu_spread": _spread(cpu),
                   "rate_ratio": _paired(results, wid, name, lambda r: r["rate"]),
                   "cpu_ratio": _paired(results, wid, name, lambda r: r["cpu_us"]),
                   "cqes_per_msg": _med([r["cqes_per_msg"] for r in ok if r.get("cqes_per_msg")]),
                   "enters_per_msg": _med([r["enters_per_msg"] for r in ok if r.get("enters_per_msg")]),
                   "problems": sorted({r["error"] or "; ".join(r["notes"]) or "server send errors"
                                       for r in rs if not valid(r)})}
            lats = [r["lat"] for r in ok if r.get("lat")]
            if lats:
                row["p50"] = _med([x["p50"] for x in lats])
                row["p99"] = _med([x["p99"] for x in lats])
                row["p50_ratio"] = _paired(results, wid, name, lambda r: (r.get("lat") or {}).get("p50"))
                row["p99_ratio"] = _paired(results, wid, name, lambda r: (r.get("lat") or {}).get("p99"))
            rows.append(row)
    return rows


def markdown(rows, works, a, info, command, started, ended):
    by_work = {w.id: w for w in wl.WORKLOADS}
    out = ["# io_uring levers, raw liburing (`bench/experiments/levers`)", "",
           "Command: `%s`" % command, "",
           "Machine: %s; %s; %s; %s; %s; liburing %s; commit %s." % (
               info.get("cpu"), info.get("cores"), info.get("kernel"), info.get("distro"),
               info.get("compiler"), info.get("liburing"), info.get("commit")),
           "Window: %s to %s UTC (%d round(s), %.3g s measured after %.3g s warmup per run; "
           "server on CPU %s with %d thread(s), client on CPU %s)." % (
               started, ended, a.rounds, a.duration, a.warmup, a.server_cpu, a.server_threads,
               a.client_cpu), "",
           "Every variant flips one lever of the defaults (`lever_server` with no flags: "
           "SINGLE_ISSUER|DEFER_TASKRUN, registered ring fd, multishot recv with bundles on a "
           "4 KiB x 512 buffer ring, batched sends with one in flight per connection). "
           "Rate and server CPU per message are medians over the valid runs; ± is half the "
           "range over the median. Ratios are the median of the per-round ratios to the baseline "
           "of the same round (CPU ratio < 1: the lever saves server CPU). cqe/msg and "
           "enter/msg count the server's completions and io_uring_enter calls per client "
           "message over the whole run. A run with client errors, verification failures or "
           "server send errors is invalid and left out (column `invalid`).", ""]
    for wid in works:
        w = by_work[wid]
        wrows = [r for r in rows if r["workload"] == wid]
        lat = any("p50" in r for r in wrows)
        out += ["## %s: %s" % (wid, w.title), "",
                "Client: `ringsock load %s`, rate in %s." % (" ".join(w.load_args),
                                                             "round trips/s" if lat else w.metric), ""]
        head = ["variant", "flags", "rate", "rate/base", "server CPU us/msg", "CPU/base",
                "cqe/msg", "enter/msg", "invalid"]
        if lat:
            head[6:6] = ["p50 us", "p50/base", "p99 us", "p99/base"]
        out += ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|"]
        for r in wrows:
            cells = [r["variant"], "`%s`" % " ".join(r["flags"]) if r["flags"] else "(defaults)",
                     _rate(r["rate"]) + _pm(r["rate_spread"]),
                     _ratio(r["rate_ratio"]),
                     _f(r["cpu_us"], "%.3f") + _pm(r["cpu_spread"]),
                     _ratio(r["cpu_ratio"]), _f(r["cqes_per_msg"], "%.2f"),
                     _f(r["enters_per_msg"], "%.3f"), "%d/%d" % (r["invalid"], r["runs"])]
            if lat:
                cells[6:6] = [_f(r.get("p50"), "%.1f"), _ratio(r.get("p50_ratio", (None, None))),
                              _f(r.get("p99"), "%.1f"), _ratio(r.get("p99_ratio", (None, None)))]
            out.append("| " + " | ".join(cells) + " |")
        probs = ["- %s: %s" % (r["variant"], p) for r in wrows for p in r["problems"]]
        if probs:
            out += ["", "Invalid runs:"] + probs
        out.append("")
    return "\n".join(out) + "\n"


def _terminate(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main(argv):
    a = parse_args(argv)
    build = a.build if os.path.isabs(a.build) else os.path.join(ROOT, a.build)
    paths = Paths(build)
    for exe in (paths.lever_server, paths.ringsock):
        if not os.access(exe, os.X_OK):
            raise SystemExit("levers: %s is missing; build it: ninja -C %s lever_server ringsock" % (exe, build))
    works, variants = chosen_variants(a)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)
    command = "python3 bench/experiments/levers/levers.py " + " ".join(shlex.quote(x) for x in argv)
    info = machine.describe(ROOT, build)
    tmpdir = tempfile.mkdtemp(prefix="ringsock-levers.")
    started = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")
    results, interrupted = [], False
    try:
        results = run_all(a, works, variants, paths, tmpdir)
    except KeyboardInterrupt:
        interrupted = True
        print("levers: interrupted", flush=True)
    finally:
        procs.kill_all()
        if a.keep_logs:
            print("levers: logs in %s" % tmpdir)
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    if interrupted or not results:
        return 1
    ended = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M")
    rows = summarize(results, works, variants)
    text = markdown(rows, works, a, info, command, started, ended)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
        with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
            json.dump({"info": info, "command": command, "rows": rows, "runs": results}, f, indent=1)
        print("wrote %s" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
