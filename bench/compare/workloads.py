"""The servers compared, the workloads of issue 6, and one measured run of a
workload against a server."""
import json
import math
import os
import random
import re
import socket
import time

import procs

RINGSOCK = ["ringsock-uring", "ringsock-epoll"]
# ringsock on io_uring with its optional bounded busy polling (serve
# --busy-poll): a latency option that spends the server's core while it
# waits, so it runs on the W2 rows only and is reported apart, never as
# ringsock's own result.
BUSY_POLL = ["ringsock-uring-busy"]
BUSY_POLL_US = 50
# ringsock on io_uring with coalesced waits (serve --batch-wait): fewer
# wake-ups for up to BATCH_WAIT_US of latency; a lever measured on every
# row and reported apart.
BATCH_WAIT = ["ringsock-uring-batch"]
BATCH_WAIT_US = 20
# ringsock on io_uring with serve's exact per-connection cap off (--max-lent
# above --buffers), as the peers run: what the cap costs on the stream echo
# rows, beside the default; reported apart.
NO_CAP = ["ringsock-uring-nocap"]
NO_CAP_MAX_LENT = 32768
PEERS = ["uring", "epoll", "asio-uring", "asio-epoll", "libuv", "libevent", "threads"]
REFERENCE = ["iperf3"]  # W5's reference line; never a "peer"
OPTIONAL = BUSY_POLL + BATCH_WAIT + NO_CAP  # ringsock's optional modes, never its own result
ALL_SERVERS = RINGSOCK + OPTIONAL + PEERS + REFERENCE


def server_name(text):
    text = text.strip()
    return text[len("peer-"):] if text.startswith("peer-") else text


class Workload:
    """One row of the comparison.

    client: "load" (ringsock load), "sockperf" or "iperf3".
    metric: what the rate is - "msg/s", "pkt/s", "GB/s", "conn/s"; latency rows
            ("lat") also carry the rate but are compared on p50/p99.
    servers: None for every server, else the servers this row is for.
    """

    def __init__(self, wid, group, title, transport, server_mode, client, metric,
                 load_args=None, servers=None, quick=False):
        self.id = wid
        self.group = group
        self.title = title
        self.transport = transport
        self.server_mode = server_mode
        self.client = client
        self.metric = metric
        self.load_args = load_args or []
        self.servers = servers
        self.quick = quick

    def applies_to(self, server):
        if server in BUSY_POLL:
            return self.group == "W2"
        if server in NO_CAP:  # the cap limits stream receives in echo mode only
            return (self.server_mode == "echo" and self.transport in ("tcp", "unix") and
                    self.applies_to("ringsock-uring"))
        if server in BATCH_WAIT:
            server = "ringsock-uring"
        if self.servers is not None:
            return server in self.servers
        return server not in REFERENCE


def _load(mode, connections, size, inflight=1):
    return ["--mode", mode, "--connections", str(connections), "--inflight", str(inflight),
            "--size", str(size)]


# W1 and W3 keep 8 messages in flight per connection (500 connections: 1,
# which is 500 in flight already). With one message per connection the
# client is the bottleneck on a 2-core machine: measured 145k round trips/s
# against ringsock serve and against peer-epoll alike, the client's core at
# 100% (6.7 us of client CPU per message, most of it the kernel's loopback
# path that the sender pays for), the server's at 85-95%.
def _w1_inflight(conns):
    return 1 if conns >= 500 else 8


WORKLOADS = []
for _size in (64, 512):
    for _conns in (1, 50, 500):
        WORKLOADS.append(Workload(
            "W1-%dB-c%d" % (_size, _conns), "W1",
            "TCP echo %d B, %d conn x %d in flight" % (_size, _conns, _w1_inflight(_conns)),
            "tcp", "echo", "load", "msg/s",
            _load("pingpong", _conns, _size, inflight=_w1_inflight(_conns)),
            quick=(_size == 64 and _conns == 50)))
WORKLOADS += [
    Workload("W2-tcp", "W2", "TCP ping-pong 64 B latency (ringsock load)", "tcp", "echo", "load",
             "lat", _load("pingpong", 1, 64), quick=True),
    Workload("W2-udp", "W2", "UDP ping-pong 64 B latency (ringsock load)", "udp", "echo", "load",
             "lat", _load("pingpong", 1, 64)),
    Workload("W2-tcp-sockperf", "W2", "TCP ping-pong 64 B latency (sockperf)", "tcp", "sockperf",
             "sockperf", "lat", servers=RINGSOCK, quick=True),
    Workload("W2-udp-sockperf", "W2", "UDP ping-pong 64 B latency (sockperf)", "udp", "sockperf",
             "sockperf", "lat", servers=RINGSOCK),
    Workload("W3-unix-c50", "W3", "UNIX stream echo 64 B, 50 conn x 8 in flight", "unix", "echo",
             "load", "msg/s", _load("pingpong", 50, 64, inflight=8), quick=True),
    # 8 sockets x 8 in flight: enough to keep a one-core server busy, few
    # enough (64 datagrams) to stay far below a default receive buffer.
    Workload("W4-udp-echo", "W4", "UDP echo 64 B, 8 sockets x 8 in flight", "udp", "echo", "load",
             "pkt/s", _load("pingpong", 8, 64, inflight=8), quick=True),
    Workload("W4-udp-sink", "W4", "UDP sink 64 B, 1 socket (rate = sent minus the server socket's drops)",
             "udp", "sink", "load", "pkt/s", _load("throughput", 1, 64), quick=True),
    Workload("W5-bulk", "W5", "TCP bulk, 1 conn, 64 KiB writes", "tcp", "sink", "load", "GB/s",
             _load("throughput", 1, 65536), servers=RINGSOCK + PEERS + REFERENCE, quick=True),
    # From eight loopback addresses: from one, the client's ports in
    # TIME_WAIT cap every server near the same rate (bench/README.md, "Churn
    # from one address").
    Workload("W6-churn", "W6",
             "TCP churn: connect, 64 B exchange, close; 50 slots, 8 client addresses",
             "tcp", "echo", "load", "conn/s",
             ["--mode", "churn", "--connections", "50", "--size", "64",
              "--source", "127.0.0.2-127.0.0.9"], quick=True),
]


def select(only, quick):
    chosen = [w for w in WORKLOADS if (w.quick or not quick)]
    if only:
        keys = [k.strip() for k in only.split(",") if k.strip()]
        unknown = [k for k in keys if not any(w.id == k or w.group == k for w in WORKLOADS)]
        if unknown:
            raise SystemExit("compare: unknown workload(s) %s; known: %s" % (
                ", ".join(unknown), ", ".join(w.id for w in WORKLOADS)))
        # --only picks from the whole list, --quick or not.
        chosen = [w for w in WORKLOADS if w.id in keys or w.group in keys]
    return chosen


# ---------------------------------------------------------------- endpoints

_used_ports = set()


def _port_free(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port(low=20000, high=29999):
    """A port free for both TCP and UDP on loopback, below the ephemeral range
    (so churn's client ports never collide with it) and not used before in
    this run (no TIME_WAIT leftovers of our own)."""
    for _ in range(500):
        port = random.randint(low, high)
        if port not in _used_ports and _port_free(port):
            _used_ports.add(port)
            return port
    raise procs.ChildError("no free port in %d-%d" % (low, high))


def endpoint(transport, tmpdir, tag):
    if transport == "unix":
        path = os.path.join(tmpdir, "%s.sock" % tag)
        if os.path.exists(path):
            os.unlink(path)
        return "unix://" + path, None
    port = free_port()
    return "%s://127.0.0.1:%d" % (transport, port), port


# ---------------------------------------------------------------- servers

class Paths:
    def __init__(self, build):
        self.build = build
        self.ringsock = os.path.join(build, "tools", "ringsock", "ringsock")

    def peer(self, name):
        return os.path.join(self.build, "bench", "peers", "peer-" + name)

    def available(self, server):
        """(True, "") or (False, why)."""
        if server in RINGSOCK + OPTIONAL:
            ok = os.access(self.ringsock, os.X_OK)
            return ok, "" if ok else "%s is missing" % self.ringsock
        if server == "iperf3":
            ok = _which("iperf3") is not None
            return ok, "" if ok else "iperf3 is not installed (scripts/bench-deps.sh)"
        path = self.peer(server)
        ok = os.access(path, os.X_OK)
        return ok, "" if ok else "%s is missing (not built)" % path


def _which(name):
    for d in os.environ.get("PATH", "").split(":"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


def server_argv(paths, server, mode, ep, port, threads=1):
    """(argv, ready markers): how to start `server` with `threads`
    loops. ringsock serve and the event-loop peers run them as threads of one
    process, each loop with its own SO_REUSEPORT socket (--threads: Asio with
    an io_context per thread, libuv with a uv_loop_t per thread, epoll and
    the hand-written liburing server with an epoll set or a ring per thread).
    peer-threads runs a thread per connection already: one process, as is."""
    if server in RINGSOCK + OPTIONAL:
        backend = server.split("-")[1]
        argv = [paths.ringsock, "serve", "--mode", mode, "--backend", backend, ep]
        if threads > 1:
            argv += ["--threads", str(threads)]
        if server in BUSY_POLL:
            argv += ["--busy-poll", str(BUSY_POLL_US)]
        if server in BATCH_WAIT:
            argv += ["--batch-wait", str(BATCH_WAIT_US)]
        if server in NO_CAP:
            argv += ["--max-lent", str(NO_CAP_MAX_LENT)]
        return argv, ["listening"]
    if server == "iperf3":
        return ["iperf3", "-s", "-1", "-p", str(port), "--forceflush"], ["Server listening"]
    argv = [paths.peer(server), "--mode", mode, ep]
    if threads > 1 and server != "threads":
        argv += ["--threads", str(threads)]
    return argv, ["ready"]


def runs_with_threads(workload, server, threads):
    """Whether a row can run with `threads` server loops: ringsock serve
    serves a UNIX path from its first loop only (SO_REUSEPORT is refused on
    UNIX sockets), and iperf3 is one process."""
    return threads == 1 or (workload.transport != "unix" and server != "iperf3")


# ---------------------------------------------------------------- one run

class Settings:
    def __init__(self, duration, warmup, server_cpu, client_cpu, tmpdir, paths, server_threads=1,
                 client_threads=1):
        self.duration = duration
        self.warmup = warmup
        self.server_cpu = server_cpu  # taskset CPU lists, or None
        self.client_cpu = client_cpu
        self.tmpdir = tmpdir
        self.paths = paths
        self.server_threads = server_threads
        self.client_threads = client_threads


def _ms(seconds):
    return "%dms" % max(1, int(round(seconds * 1000)))


def client_plan(w, s, server, ep, port, json_path):
    """(argv, window start, window length, overall timeout, start marker) for
    the client; the window counts from the client's launch, or from when the
    marker shows in its output."""
    if w.client == "load" and server == "iperf3":
        omit = int(math.ceil(s.warmup))
        secs = max(1, int(math.ceil(s.duration)))
        argv = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(secs), "-O", str(omit),
                "-l", "64K", "-J"]
        return argv, omit, secs, omit + secs + 20, None
    if w.client == "load":
        argv = [s.paths.ringsock, "load", ep] + w.load_args + [
            "--duration", _ms(s.duration), "--warmup", _ms(s.warmup), "--json", json_path]
        if s.client_threads > 1:
            argv += ["--threads", str(s.client_threads)]
        return argv, s.warmup, s.duration, s.warmup + s.duration + 20, None
    if w.client == "sockperf":
        secs = max(1, int(math.ceil(s.duration)))
        argv = ["sockperf", "ping-pong", "-i", "127.0.0.1", "-p", str(port), "-m", "64",
                "-t", str(secs), "--full-rtt"]
        if w.transport == "tcp":
            argv.insert(2, "--tcp")
        # sockperf first spends ~2 s on its own pre-warmup, prints "Starting
        # test", then discards 400 ms and measures the rest of -t.
        return argv, 0.4, secs - 0.45, secs + 30, "Starting test"
    raise ValueError(w.client)


def run_one(w, server, s, tag):
    """Runs workload `w` against `server` once. Returns a dict; "error" is set
    when the run produced no usable figure."""
    rec = {"workload": w.id, "server": server, "rate": None, "cpu_us": None, "lat": None,
           "error": None, "notes": []}
    logbase = os.path.join(s.tmpdir, tag)
    ep, port = endpoint(w.transport, s.tmpdir, tag)
    mode = w.server_mode
    argv, ready = server_argv(s.paths, server, mode, ep, port, s.server_threads)
    srv = None
    client = None
    try:
        out, err = logbase + ".srv.out", logbase + ".srv.err"
        srv = procs.spawn(procs.pinned(s.server_cpu, argv), out, err)
        try:
            procs.wait_ready(srv, out, err, ready)
        except procs.ChildError as e:
            rec["error"] = "server: %s" % e
            return rec
        json_path = logbase + ".json"
        cargv, start, length, timeout, marker = client_plan(w, s, server, ep, port, json_path)
        margin = min(0.3, 0.1 * length)
        t0 = time.monotonic()
        client = procs.spawn(procs.pinned(s.client_cpu, cargv), logbase + ".cli.out",
                             logbase + ".cli.err")
        window = procs.sample_window([srv], client, start + margin, length - 2 * margin, t0, marker,
                                     (logbase + ".cli.out", logbase + ".cli.err"),
                                     port if w.transport == "udp" else None)
        try:
            rc = procs.wait_bounded(client, timeout)
        except procs.ChildError as e:
            rec["error"] = "client: %s" % e
            return rec
        if srv.poll() is not None and server != "iperf3":  # iperf3 -s -1 ends by itself
            rec["error"] = "server exited with status %s during the run: %s" % (
                srv.returncode, procs.tail(err))
            return rec
        parse = {"load": _parse_load, "sockperf": _parse_sockperf}[w.client]
        if server == "iperf3":
            parse = _parse_iperf3
        parse(w, rec, rc, logbase, json_path)
        if w.client == "load" and server != "iperf3" and os.path.exists(json_path):
            rec["result_file"] = json_path  # for the workload's report (charts.py)
        if rec["error"] is None:
            _account_cpu(w, rec, window)
        return rec
    finally:
        if client is not None and client.poll() is None:
            procs.stop(client, grace=1.0)
        if srv is not None:
            status = procs.stop(srv)
            if status not in (0, None) and rec["error"] is None:
                rec["notes"].append("server exit status %s on SIGTERM" % status)
        if w.transport == "unix":
            try:
                os.unlink(ep[len("unix://"):])
            except OSError:
                pass


def _account_cpu(w, rec, window):
    frac = window.cpu_fraction()
    if w.metric == "pkt/s" and w.load_args[1] == "throughput":
        # UDP sink: what the client sent minus what the server's socket
        # dropped on a full receive buffer (/proc/net/udp, that socket only).
        sent = rec["rate"]
        rec["client_sent_per_s"] = sent
        dropped = window.udp_drop_rate()
        if dropped is None:
            rec["rate_source"] = "client sent rate (no drop counter for the server socket)"
            rec["notes"].append(rec["rate_source"])
        else:
            rec["dropped_per_s"] = dropped
            rec["rate"] = max(0.0, sent - dropped)
            rec["rate_source"] = "client sent - server socket drops"
            if sent and dropped > 0.01 * sent:
                rec["notes"].append("server socket dropped %.0f%% of datagrams" % (
                    100.0 * dropped / sent))
    if frac is None:
        rec["notes"].append("no CPU window (the client ended early?)")
        return
    rec["server_cpu_fraction"] = frac
    per_s = rec.get("messages_per_s") or rec["rate"]
    if per_s:
        rec["cpu_us"] = frac / per_s * 1e6


def _parse_load(w, rec, rc, logbase, json_path):
    try:
        with open(json_path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        rec["error"] = "ringsock load exited %s without JSON: %s" % (
            rc, procs.tail(logbase + ".cli.err") or procs.tail(logbase + ".cli.out"))
        return
    r = doc.get("results", {})
    rec["client_backend"] = doc.get("backend", {}).get("name")
    rec["errors"] = r.get("errors", 0)
    rec["verification_failures"] = r.get("verification_failures", 0)
    if w.metric == "conn/s":
        if "connections_per_s" not in r:
            rec["error"] = "no results.connections_per_s (is --mode churn in this ringsock load?)"
            return
        rec["rate"] = r["connections_per_s"]
    elif w.metric == "GB/s":
        rec["rate"] = r.get("mb_per_s_out", 0) / 1000.0
        rec["messages_per_s"] = r.get("rate_achieved")
    else:
        rec["rate"] = r.get("rate_achieved")
    lat = r.get("latency_ns") or {}
    if w.metric == "lat" and lat.get("count"):
        rec["lat"] = {k: lat.get(k, 0) / 1000.0 for k in ("p50", "p99", "p99.9")}
    if rc not in (0, None):
        rec["notes"].append("ringsock load exit status %s" % rc)
    if rec["errors"] or rec["verification_failures"]:
        rec["notes"].append("%s error(s), %s verification failure(s)" % (
            rec["errors"], rec["verification_failures"]))
    if not rec["rate"]:
        rec["error"] = "zero rate (exit %s): %s" % (rc, procs.tail(logbase + ".cli.err"))


_PCT = re.compile(r"percentile\s+([0-9.]+)\s*=\s*([0-9.]+)")
_VALID = re.compile(r"\[Valid Duration\] RunTime=([0-9.]+) sec; SentMessages=(\d+); "
                    r"ReceivedMessages=(\d+)")


def _parse_sockperf(w, rec, rc, logbase, json_path):
    text = ""
    for suffix in (".cli.out", ".cli.err"):
        try:
            with open(logbase + suffix, errors="replace") as f:
                text += f.read()
        except OSError:
            pass
    valid = _VALID.search(text)
    pct = {float(a): float(b) for a, b in _PCT.findall(text)}
    if rc != 0 or not valid or 50.0 not in pct:
        rec["error"] = "sockperf exited %s: %s" % (rc, procs.tail(logbase + ".cli.err")
                                                    or procs.tail(logbase + ".cli.out"))
        return
    secs, sent, received = float(valid.group(1)), int(valid.group(2)), int(valid.group(3))
    rec["rate"] = received / secs if secs > 0 else None
    rec["lat"] = {"p50": pct.get(50.0), "p99": pct.get(99.0), "p99.9": pct.get(99.9)}
    if sent != received:
        rec["notes"].append("sockperf: %d sent, %d received" % (sent, received))


def _parse_iperf3(w, rec, rc, logbase, json_path):
    try:
        with open(logbase + ".cli.out") as f:
            doc = json.load(f)
        bps = doc["end"]["sum_received"]["bits_per_second"]
    except (OSError, ValueError, KeyError, TypeError):
        rec["error"] = "iperf3 exited %s: %s" % (rc, procs.tail(logbase + ".cli.err")
                                                  or procs.tail(logbase + ".cli.out"))
        return
    rec["rate"] = bps / 8e9
    rec["messages_per_s"] = bps / 8 / 65536.0  # per 64 KiB, like the other W5 rows
