#!/usr/bin/env python3
"""Memory per idle connection: the RSS slope of servers and of `ringsock load`.

Servers (`ringsock serve` on each backend, and the peers in bench/peers/ when
built): one connection exchanges a message (the baseline: pools and lazy
set-up are then taken), then N connections each exchange one 64-byte message
and stay open idle; the server's RSS growth over those N connections, per
connection, is the slope. Measured at N = 1,000 and 10,000 (cumulative).

The client (`ringsock load --mode idle`): its peak RSS while it holds N idle
connections against `ringsock serve`, less its peak RSS with one connection,
per connection.

RSS is VmRSS from /proc/PID/status (resident pages of the process: heap,
stacks, touched mappings); kernel socket memory is not in it.

  bench/memory.py --ringsock build/tools/ringsock/ringsock \
                  [--peers build/bench/peers] [--counts 1000,10000] [--markdown FILE]
"""

import argparse
import datetime
import os
import resource
import socket
import subprocess
import sys
import time

MESSAGE = bytes(range(64))
SETTLE_S = 0.5  # after the last exchange, before reading RSS
WARM_UP_EXCHANGES = 8192  # 16 times the default pool of ringsock serve (512 buffers)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_line(process, prefix, timeout_s=10):
    """Reads stdout lines until one starts with prefix; returns it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line.strip()
    raise RuntimeError(f"{process.args[0]} did not print {prefix!r}")


def exchange(port):
    """A connection that has sent one message and read its echo; left open."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(MESSAGE)
    got = b""
    while len(got) < len(MESSAGE):
        chunk = s.recv(len(MESSAGE) - len(got))
        if not chunk:
            raise RuntimeError("the server closed a connection")
        got += chunk
    if got != MESSAGE:
        raise RuntimeError("echo differs")
    return s


def warm_up(s):
    """Exchanges enough messages to have cycled through a buffer pool (io_uring
    hands out a provided-buffer ring in order): every pool page is touched
    before the baseline, so the slope is the connections' own."""
    for _ in range(WARM_UP_EXCHANGES):
        s.sendall(MESSAGE)
        got = b""
        while len(got) < len(MESSAGE):
            got += s.recv(len(MESSAGE) - len(got))


def server_slopes(name, command, ready_prefix, port, counts):
    """Starts a server, grows its idle connections; returns {N: bytes per connection}."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    held = []
    try:
        wait_line(process, ready_prefix)
        held.append(exchange(port))
        warm_up(held[0])
        time.sleep(SETTLE_S)
        base = rss_bytes(process.pid)
        slopes = {}
        for count in counts:
            while len(held) < count + 1:
                held.append(exchange(port))
            time.sleep(SETTLE_S)
            slopes[count] = (rss_bytes(process.pid) - base) / count
        return {"name": name, "base_rss": base, "slopes": slopes}
    finally:
        for s in held:
            s.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load_peak_rss(ringsock, url, backend, connections, hold_s):
    command = [ringsock, "load", url, "--mode", "idle", "--connections", str(connections),
               "--duration", f"{hold_s}s", "--backend", backend]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, rss_bytes(process.pid))
        except (OSError, RuntimeError):
            break
        time.sleep(0.05)
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {out}{err}")
    if f"{connections} of {connections} held" not in out:
        print(f"memory.py: warning: not every connection was held:\n{out}", file=sys.stderr)
    return peak


def load_slopes(ringsock, backend, counts, hold_s):
    """`ringsock load --mode idle` against `ringsock serve`: bytes per connection."""
    port = free_port()
    server = subprocess.Popen([ringsock, "serve", f"tcp://127.0.0.1:{port}", "--backend", backend],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_line(server, "listening ")
        url = f"tcp://127.0.0.1:{port}"
        base = load_peak_rss(ringsock, url, backend, 1, hold_s)
        slopes = {count: (load_peak_rss(ringsock, url, backend, count, hold_s) - base) / (count - 1)
                  for count in counts}
        return {"name": f"ringsock load --mode idle ({backend})", "base_rss": base,
                "slopes": slopes}
    finally:
        server.terminate()
        server.wait(timeout=10)


def peers_in(directory):
    """The peer servers built there: (name, path), in a fixed order."""
    found = []
    for name in ["peer-epoll", "peer-libevent", "peer-libuv", "peer-asio-epoll",
                 "peer-asio-uring"]:
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            found.append((name, path))
    return found


def table(rows, counts):
    header = "| program | RSS at start | " + " | ".join(
        f"bytes per connection, {c:,} idle" for c in counts) + " |"
    lines = [header, "|" + "---|" * (2 + len(counts))]
    for row in rows:
        cells = [f"{row['slopes'][c]:,.0f}" for c in counts]
        lines.append(f"| {row['name']} | {row['base_rss'] / 1e6:.1f} MB | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ringsock", required=True, help="the ringsock binary")
    parser.add_argument("--peers", help="directory of the built peer servers (bench/peers)")
    parser.add_argument("--counts", default="1000,10000", help="idle connections, comma-separated")
    parser.add_argument("--hold", type=float, default=3.0, help="load: seconds to hold (>= 2)")
    parser.add_argument("--backends", default="uring,epoll")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    limit = raise_fd_limit()
    if limit < max(counts) + 64:
        sys.exit(f"memory.py: the fd limit {limit} is below {max(counts) + 64}: raise ulimit -n")
    backends = args.backends.split(",")

    rows = []
    for backend in backends:
        port = free_port()
        rows.append(server_slopes(f"ringsock serve ({backend})",
                                  [args.ringsock, "serve", f"tcp://127.0.0.1:{port}",
                                   "--backend", backend],
                                  "listening ", port, counts))
        print(table(rows[-1:], counts), flush=True)
    for name, path in peers_in(args.peers) if args.peers else []:
        port = free_port()
        rows.append(server_slopes(name, [path, f"tcp://127.0.0.1:{port}"], "ready", port, counts))
        print(table(rows[-1:], counts), flush=True)
    for backend in backends:
        rows.append(load_slopes(args.ringsock, backend, counts, args.hold))
        print(table(rows[-1:], counts), flush=True)

    text = table(rows, counts)
    print("\n" + text)
    if args.markdown:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with open(args.markdown, "w") as out:
            out.write(f"<!-- {stamp}: {' '.join(sys.argv)} -->\n{text}\n")


if __name__ == "__main__":
    main()
