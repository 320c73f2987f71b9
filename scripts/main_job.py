#!/usr/bin/env python3
"""README command 1's job: `ringsock load` against `ringsock serve` over
loopback, on TCP, UDP, UNIX stream and UNIX datagram sockets, on both
backends, printed as one table.

Each row starts its own server (same backend as the client), runs one
bounded load with --json, stops the server with SIGTERM and reads the
results. Every reply is verified by the client; a row with errors or
verification failures makes the exit code 1.

usage: main_job.py RINGSOCK_BINARY [--duration 2s] [--warmup 500ms]
                   [--connections 8] [--size 64] [--backends uring,epoll]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

TRANSPORTS = ["tcp", "udp", "unix", "unix-dgram"]


def endpoint_for(transport, directory):
    if transport in ("tcp", "udp"):
        return f"{transport}://127.0.0.1:0"
    return f"{transport}://{directory}/{transport}.sock"


def start_server(binary, endpoint, backend):
    """Starts `ringsock serve`; returns (process, bound url) or (process, None)."""
    server = subprocess.Popen([binary, "serve", "--backend", backend, endpoint],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # "listening URL", or EOF when it could not start
    if not line.startswith("listening "):
        return server, None
    return server, line.split(" ", 1)[1].strip()


def stop_server(server):
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    try:
        out, err = server.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        out, err = server.communicate()
    return out


def source_args(mode, backend):
    """Churn connects from eight loopback addresses of its own per backend.
    From one address, each closed connection leaves its port in TIME_WAIT
    and the kernel may reuse it only a second later: the ephemeral range
    (28232 ports by default) then caps churn near 14k connections/s on
    either backend, and connect's port search puts tens of milliseconds in
    the tail. That is the kernel's port allocator, not the loop under test."""
    if mode != "churn":
        return []
    first = 2 + 8 * ["uring", "epoll"].index(backend) if backend in ("uring", "epoll") else 18
    return ["--source", f"127.0.0.{first}-127.0.0.{first + 7}"]


def run_row(binary, transport, backend, mode, args, directory):
    server, url = start_server(binary, endpoint_for(transport, directory), backend)
    if url is None:
        stop_server(server)
        return {"transport": transport, "backend": backend, "mode": mode,
                "failure": "server could not start"}
    json_path = os.path.join(directory, f"{transport}-{backend}-{mode}.json")
    command = [binary, "load", url, "--backend", backend, "--mode", mode,
               "--duration", args.duration, "--warmup", args.warmup,
               "--connections", str(args.connections), "--size", str(args.size),
               "--json", json_path] + source_args(mode, backend)
    try:
        load = subprocess.run(command, capture_output=True, text=True, timeout=120)
        code = load.returncode
    except subprocess.TimeoutExpired:
        code = -1
    stop_server(server)
    row = {"transport": transport, "backend": backend, "mode": mode, "code": code}
    try:
        with open(json_path) as f:
            row["json"] = json.load(f)
    except (OSError, ValueError):
        row["failure"] = f"no results (exit {code})"
    return row


def got_backend(row):
    """The backend the client ran on; marked when it is not the one asked for."""
    name = row["json"]["backend"]["name"]
    wanted = {"uring": "io_uring", "epoll": "epoll"}.get(row["backend"], row["backend"])
    return name if name == wanted else f"{name} (asked {row['backend']})"


def us(ns):
    return f"{ns / 1000:.1f}"


def print_table(rows):
    header = ["transport", "backend", "mode", "conns", "rate/s", "p50 us", "p99 us",
              "p99.9 us", "verified", "errors", "lost"]
    lines = []
    for row in rows:
        if "json" not in row:
            lines.append([row["transport"], row["backend"], row["mode"], "", "", "", "", "",
                          "", row.get("failure", "?"), ""])
            continue
        r = row["json"]["results"]
        latency = r["latency_ns"]
        rate = r["connections_per_s"] if row["mode"] == "churn" else r["rate_achieved"]
        errors = r["errors"] + r["verification_failures"]
        lines.append([row["transport"], got_backend(row), row["mode"],
                      str(row["json"]["config"]["connections"]), f"{rate:,.0f}",
                      us(latency["p50"]), us(latency["p99"]), us(latency["p99.9"]),
                      f"{r['received']:,}", str(errors), f"{r['loss'] * 100:.3f}%"])
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    def fmt(cells):
        return "  ".join(c.rjust(w) if i >= 3 else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    print(fmt(header))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print(fmt(line))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--duration", default="2s")
    parser.add_argument("--warmup", default="500ms")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--backends", default="uring,epoll")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ringsock-main-") as directory:
        for backend in backends:
            for transport in TRANSPORTS:
                rows.append(run_row(args.binary, transport, backend, "pingpong", args, directory))
            rows.append(run_row(args.binary, "tcp", backend, "churn", args, directory))
    print(f"ringsock load -> ringsock serve over loopback: {args.connections} connections, "
          f"{args.size} B messages, {args.duration} measured after {args.warmup} warmup, "
          f"every reply verified; churn = connect, one exchange, close, from 8 local "
          f"addresses (127.0.0.x)")
    print_table(rows)
    bad = [r for r in rows if "json" not in r or r["code"] != 0 or
           r["json"]["results"]["errors"] + r["json"]["results"]["verification_failures"] > 0]
    if bad:
        print(f"\n{len(bad)} row(s) failed or had errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
