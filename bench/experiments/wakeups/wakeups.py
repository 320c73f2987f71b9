#!/usr/bin/env python3
"""Who pays for the wakeups: per-message io_uring tracepoint and syscall
counts of a server and of the ringsock load client driving it, side by side.

Each server runs on one core and `ringsock load` on the other (as in
bench/compare.sh); during the middle of the run `perf stat` counts, per
process, the io_uring tracepoints that tell how data met its reader:

- task_add: a poll woke and queued task work, counted in the context of the
  process whose send made the other side's socket readable (the waker pays);
- poll_arm: a request found no data and armed a poll (counted in the context
  of the process that armed it);
- submit_req / complete: SQEs issued and CQEs posted;
- syscalls: system calls entered (raw_syscalls:sys_enter), which is where
  an epoll server's work shows (its wakeups are not io_uring tracepoints).

A count is per message: events in the window divided by the client's rate
times the window. With the server's CPU use and its sleeps (voluntary
context switches) per second, and the client's CPU per message.

usage: bench/experiments/wakeups/wakeups.py [--transport tcp|udp|unix] [--mode pingpong|throughput]
                                            [--connections N] [--inflight N] [--size N]
                                            [--duration S] [--rounds N] NAME='COMMAND with ENDPOINT' ...
ENDPOINT in a command becomes the run's endpoint (tcp://127.0.0.1:port,
udp://127.0.0.1:port or unix:///tmp/.../NAME.sock); PORT, the port alone.
--mode throughput is a one-way stream (against a sink): its per-message
counts are per message sent.
--symbols client|server also samples that side (perf record, cpu-clock at
SYMBOL_HZ) over the same window and adds a table of where its CPU goes, in
nanoseconds per message by symbol, each server's against the first's: the
instrument for "the client costs more against this server - where?". perf
record slows the pair by up to ~10% on a small VM; the counts stay exact.
example:
  bench/experiments/wakeups/wakeups.py ringsock='build/tools/ringsock/ringsock serve ENDPOINT' \\
                                       asio='build/bench/peers/peer-asio-uring ENDPOINT'
Needs perf (Debian's linux-perf) and root (or perf_event_paranoid <= -1) for
the tracepoints. Talks to 127.0.0.1 only; every run is bounded by --duration.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

EVENTS = ["task_add", "poll_arm", "submit_req", "complete", "syscalls"]
TRACEPOINTS = {"syscalls": "raw_syscalls:sys_enter"}  # the rest: io_uring:io_uring_NAME
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "bench", "compare"))
import procs  # noqa: E402  (pinned, bounded children and their CPU, as bench/compare)
import workloads  # noqa: E402  (endpoint: a free loopback port, or a UNIX path)

RINGSOCK = os.path.join(ROOT, "build", "tools", "ringsock", "ringsock")


def sleeps(pid):
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        for line in open("/proc/%d/task/%s/status" % (pid, task)):
            if line.startswith("voluntary_ctxt_switches"):
                total += int(line.split()[1])
    return total


def tracepoint(event):
    return TRACEPOINTS.get(event, "io_uring:io_uring_" + event)


def perf_counts(pid, seconds, out):
    events = ",".join(tracepoint(e) for e in EVENTS)
    return subprocess.Popen(["perf", "stat", "-x", ",", "-e", events, "-p", str(pid), "-o", out,
                             "--", "sleep", "%.3f" % seconds],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_counts(path):
    """The counts perf wrote; an event it could not count is an error (a
    zero would pass for a measurement)."""
    names = {tracepoint(e): e for e in EVENTS}
    counts = {}
    for line in open(path):
        parts = line.strip().split(",")
        if len(parts) > 2 and parts[2] in names and parts[0].isdigit():
            counts[names[parts[2]]] = float(parts[0])
    missing = [e for e in EVENTS if e not in counts]
    if missing:
        raise SystemExit("wakeups: perf did not count %s (root, or kernel.perf_event_paranoid "
                         "<= -1, and tracefs are needed); its output: %s" % (
                             ", ".join(missing), open(path).read().strip()[:300]))
    return counts


SYMBOL_HZ = 4000


def perf_record(pid, seconds, out):
    return subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", str(SYMBOL_HZ), "-p", str(pid),
                             "-o", out, "--", "sleep", "%.3f" % seconds],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def symbol_ns(path, messages):
    """{"[k] symbol" or "[.] symbol": CPU nanoseconds per message} from a
    perf record file ([k] kernel, [.] user space): each sample stands for
    1 / SYMBOL_HZ s of CPU."""
    out = subprocess.run(["perf", "report", "-i", path, "--stdio", "-n", "--no-children",
                          "--sort", "sym"], capture_output=True, text=True).stdout
    ns = {}
    for line in out.splitlines():
        parts = line.split()
        # "  12.34%  1234  [k] symbol name"
        if len(parts) >= 4 and parts[0].endswith("%") and parts[1].isdigit():
            ns[" ".join(parts[2:])] = int(parts[1]) * 1e9 / SYMBOL_HZ / messages
    if not ns:
        raise SystemExit("wakeups: perf record gave no samples (%s)" % path)
    return ns


def one_run(args, name, command, tmp):
    # A fresh port, or a UNIX path named after the server (unlinked first).
    ep, port = workloads.endpoint(args.transport, tmp, re.sub(r"[^A-Za-z0-9_.-]", "_", name))
    argv = [a.replace("ENDPOINT", ep).replace("PORT", str(port or 0)) for a in shlex.split(command)]
    log = lambda name: os.path.join(tmp, name)
    server = procs.spawn(procs.pinned(0, argv), log("server.out"), log("server.err"))
    client = None
    try:
        time.sleep(0.5)
        if server.poll() is not None:
            raise SystemExit("wakeups: server exited at start: %s: %s"
                             % (" ".join(argv), procs.tail(log("server.err"))))
        report = log("load.json")
        client = procs.spawn(procs.pinned(1, [
            args.ringsock, "load", ep, "--mode", args.mode,
            "--connections", str(args.connections), "--inflight", str(args.inflight),
            "--size", str(args.size), "--duration", "%gs" % args.duration, "--json", report]),
            log("client.out"), log("client.err"))
        window = args.duration / 2
        time.sleep(args.duration / 4)
        cpu0, sleeps0, t0 = procs.cpu_seconds(server.pid), sleeps(server.pid), time.time()
        probes = [perf_counts(server.pid, window, log("server.csv")),
                  perf_counts(client.pid, window, log("client.csv"))]
        if args.symbols:
            sampled = server.pid if args.symbols == "server" else client.pid
            probes.append(perf_record(sampled, window, log("symbols.data")))
        for p in probes:
            p.wait()
        elapsed = time.time() - t0
        cpu1, sleeps1 = procs.cpu_seconds(server.pid), sleeps(server.pid)
        if procs.wait_bounded(client, args.duration + 30) != 0:
            raise SystemExit("wakeups: ringsock load failed against %s: %s"
                             % (" ".join(argv), procs.tail(log("client.err"))))
        results = json.load(open(report))["results"]
        rate = results["rate_achieved"]
        messages = rate * window
        row = {"rate": rate, "server_util": (cpu1 - cpu0) / elapsed,
               "server_sleeps_per_s": (sleeps1 - sleeps0) / elapsed,
               "client_us_per_msg": results["cpu_per_message_ns"] / 1000.0}
        for side in ("server", "client"):
            counts = read_counts(log(side + ".csv"))
            for e in EVENTS:
                row[side + "_" + e] = counts[e] / messages
        if args.symbols:
            row["symbols"] = symbol_ns(log("symbols.data"), messages)
        return row
    finally:
        if client is not None and client.poll() is None:
            procs.stop(client)
        procs.stop(server)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transport", choices=["tcp", "udp", "unix"], default="tcp")
    ap.add_argument("--mode", choices=["pingpong", "throughput"], default="pingpong",
                    help="the load's mode: ping-pong (an echo server) or a one-way stream (a sink)")
    ap.add_argument("--connections", type=int, default=500)
    ap.add_argument("--inflight", type=int, default=1)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ringsock", default=RINGSOCK, help="the ringsock binary (the client)")
    ap.add_argument("--symbols", choices=["client", "server"],
                    help="also sample this side's CPU by symbol (perf record)")
    ap.add_argument("--top", type=int, default=12,
                    help="--symbols: the symbols whose cost differs most from the first server's")
    ap.add_argument("servers", nargs="+", help="NAME='COMMAND with ENDPOINT (or PORT)'")
    args = ap.parse_args()
    if not 0.5 <= args.duration <= 60 or not 1 <= args.rounds <= 20:
        ap.error("--duration must be 0.5-60 s and --rounds 1-20")
    if not 1 <= args.top <= 200:
        ap.error("--top must be 1-200")
    if shutil.which("perf") is None:
        ap.error("perf is missing (apt-get install linux-perf)")
    specs = []
    for spec in args.servers:
        name, sep, command = spec.partition("=")
        if not sep or not name or ("PORT" not in command and "ENDPOINT" not in command):
            ap.error("a server is NAME='COMMAND with ENDPOINT (or PORT)', not %r" % spec)
        if args.transport == "unix" and "ENDPOINT" not in command:
            ap.error("a UNIX server's command needs ENDPOINT: %r" % spec)
        specs.append((name, command))
    rows = {name: [] for name, _ in specs}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):  # interleaved, order reversed every other round
            for name, command in (specs if r % 2 == 0 else specs[::-1]):
                rows[name].append(one_run(args, name, command, tmp))
                print("round %d %s: %.0f msg/s" % (r + 1, name, rows[name][-1]["rate"]),
                      file=sys.stderr, flush=True)
    print("%s %s %d B, %d conn x %d in flight, %g s x %d rounds, medians; counts per message"
          % (args.transport.upper(), "echo" if args.mode == "pingpong" else "stream to a sink",
             args.size, args.connections, args.inflight, args.duration, args.rounds))
    print()
    head = (["server", "msg/s", "server CPU", "server sleeps/s", "client us/msg"] +
            ["server " + e for e in EVENTS] + ["client " + e for e in EVENTS])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, _ in specs:
        med = lambda k: statistics.median(row[k] for row in rows[name])
        cells = ["%.0f" % med("rate"), "%.1f%%" % (100 * med("server_util")),
                 "%.0f" % med("server_sleeps_per_s"), "%.2f" % med("client_us_per_msg")]
        cells += ["%.2f" % med(side + "_" + e) for side in ("server", "client") for e in EVENTS]
        print("| " + " | ".join([name] + cells) + " |")
    if args.symbols:
        print_symbols(args, specs, rows)


def print_symbols(args, specs, rows):
    """Per symbol, the median over rounds of CPU ns per message (a round
    without a sample of it counts 0); the rows whose cost differs most from
    the first server's, and the totals."""
    names = [name for name, _ in specs]
    med = {}
    for name in names:
        symbols = set().union(*(row["symbols"] for row in rows[name]))
        med[name] = {sym: statistics.median(row["symbols"].get(sym, 0.0) for row in rows[name])
                     for sym in symbols}
    base = names[0]
    every = set().union(*(med[n] for n in names))
    spread = lambda sym: max(abs(med[n].get(sym, 0.0) - med[base].get(sym, 0.0)) for n in names)
    top = sorted(every, key=spread, reverse=True)[:args.top]
    print()
    print("Where the %s's CPU goes: ns per message by symbol (perf record, cpu-clock %d Hz), "
          "the %d symbols that differ most from %s" % (args.symbols, SYMBOL_HZ, args.top, base))
    print()
    head = ["symbol"] + names + ["%s - %s" % (n, base) for n in names[1:]]
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 1))
    for sym in top:
        cells = ["%.1f" % med[n].get(sym, 0.0) for n in names]
        cells += ["%+.1f" % (med[n].get(sym, 0.0) - med[base].get(sym, 0.0)) for n in names[1:]]
        print("| `%s` | " % sym.replace("|", "/") + " | ".join(cells) + " |")
    for label, prefix in (("all kernel symbols [k]", "[k]"), ("all user-space symbols [.]", "[.]"),
                          ("all symbols", "")):
        totals = {n: sum(v for sym, v in med[n].items() if sym.startswith(prefix)) for n in names}
        cells = ["%.1f" % totals[n] for n in names]
        cells += ["%+.1f" % (totals[n] - totals[base]) for n in names[1:]]
        print("| %s | " % label + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
