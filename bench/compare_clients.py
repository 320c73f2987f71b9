#!/usr/bin/env python3
"""`ringsock load` side by side with the clients users pick, in one run.

Against the same server, with the same connections and pipelining:
  redis   redis-server: redis-benchmark -t ping_inline (-P 1 and -P 16)
          against ringsock load --request 'PING\\r\\n' --reply resp, as it is
          and with --busy-poll 5 --batch-wait 10
  nginx   nginx (HTTP/1.1 keep-alive GET of a static file): wrk -t1
          against ringsock load --request 'GET ...' --reply http, as it is
          and with --busy-poll 5 --batch-wait 10
  sockperf  ringsock serve --mode sockperf, one TCP connection, 64 bytes:
          sockperf ping-pong against ringsock load --sockperf, as it is,
          with --busy-poll 50 and with --backend epoll
  custom  ringsock serve (echo), 64 bytes: ringsock's own messages (--size 64)
          against a 64-byte --request with --reply-bytes 64
Each case runs --rounds times, its clients alternating; the table gives
medians of requests/s, client CPU (user + system of the reaped client) per
request in us, the round-trip p50 (sockperf's half round trip doubled), and
each client's rate and CPU over the other tool's in the same round (median
of those ratios). The server is pinned to CPU 0, every client
to CPU 1 (taskset), when the machine has two CPUs or more.

  python3 bench/compare_clients.py --ringsock build/tools/ringsock/ringsock
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare"))
import procs  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise procs.ChildError("nothing listens on port %d" % port)


def run_client(argv, cpu, timeout):
    """Runs a client to its end (its CPU is read by CpuMeter once it is reaped)."""
    proc = subprocess.Popen(procs.pinned(cpu, argv), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return out.decode(errors="replace"), proc.returncode


class CpuMeter:
    """CPU of finished children, from RUSAGE_CHILDREN differences."""

    def __init__(self):
        import resource
        self.resource = resource
        self.last = self._now()

    def _now(self):
        u = self.resource.getrusage(self.resource.RUSAGE_CHILDREN)
        return u.ru_utime + u.ru_stime

    def take(self):
        now = self._now()
        spent, self.last = now - self.last, now
        return spent


def start_server(argv, port, cpu, work, name):
    proc = procs.spawn(procs.pinned(cpu, argv), os.path.join(work, name + ".out"),
                       os.path.join(work, name + ".err"))
    wait_port(port)
    return proc


def nginx_config(work, port):
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("<html><body>" + "ringsock bench page " * 20 + "</body></html>\n")
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off;\nmaster_process off;\nworker_processes 1;\npid %s/nginx.pid;\n"
                "error_log %s/error.log;\nevents { worker_connections 1024; }\nhttp {\n"
                "  access_log off;\n  keepalive_requests 1000000;\n"
                "  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
                "  uwsgi_temp_path %s; scgi_temp_path %s;\n"
                "  server { listen 127.0.0.1:%d; root %s; }\n}\n"
                % ((work, work) + (work,) * 5 + (port, www)))
    return conf


def ringsock_load(a, cpu, url, extra):
    """(requests/s, requests, p50 us) of one ringsock load run, and its CPU."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    argv = [a.ringsock, "load", url, "--duration", "%gs" % a.seconds, "--json", path] + extra
    out, _ = run_client(argv, cpu, a.seconds + 30)
    with open(path) as f:
        results = json.load(f)["results"]
    os.unlink(path)
    if results["verification_failures"] or results["received"] == 0:
        raise procs.ChildError("ringsock load failed:\n" + out)
    return results["rate_achieved"], results["received"], results["latency_ns"]["p50"] / 1e3


def redis_benchmark(a, cpu, port, conns, pipeline, rate_hint):
    n = max(10000, int(rate_hint * a.seconds))
    out, _ = run_client(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-t",
                         "ping_inline", "-c", str(conns), "-n", str(n), "-P", str(pipeline),
                         "--csv"], cpu, a.seconds * 10 + 60)
    m = re.search(r'"PING_INLINE","([0-9.]+)","[0-9.]+","[0-9.]+","([0-9.]+)"', out)
    if not m:
        raise procs.ChildError("redis-benchmark: " + out[-300:])
    return float(m.group(1)), n, float(m.group(2)) * 1e3


def wrk(a, cpu, port, conns):
    out, _ = run_client(["wrk", "-t1", "-c", str(conns), "-d", "%ds" % max(1, round(a.seconds)),
                         "--latency", "http://127.0.0.1:%d/index.html" % port], cpu,
                        a.seconds + 30)
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    total = re.search(r"([0-9]+) requests in", out)
    p50 = re.search(r"50%\s+([0-9.]+)(us|ms|s)", out)
    if not rate or not total or "Non-2xx" in out:
        raise procs.ChildError("wrk: " + out[-300:])
    scale = {"us": 1, "ms": 1e3, "s": 1e6}
    return float(rate.group(1)), int(total.group(1)), float(p50.group(1)) * scale[p50.group(2)]


def sockperf_pingpong(a, cpu, port):
    out, _ = run_client(["sockperf", "ping-pong", "--tcp", "-i", "127.0.0.1", "-p", str(port),
                         "-m", "64", "-t", str(max(1, round(a.seconds)))], cpu, a.seconds + 30)
    total = re.search(r"\[Total Run\] RunTime=([0-9.]+) sec; Warm up time=([0-9]+) msec; "
                      r"SentMessages=([0-9]+); ReceivedMessages=([0-9]+)", out)
    p50 = re.search(r"percentile 50\.000 =\s+([0-9.]+)", out)
    if not total or not p50:
        raise procs.ChildError("sockperf: " + out[-300:])
    received = int(total.group(4))
    # sockperf prints half the round trip; ringsock load's p50 is a whole one.
    return received / float(total.group(1)), received, 2 * float(p50.group(1))


def measure(meter, fn, *args):
    meter.take()
    rate, requests, p50 = fn(*args)
    cpu = meter.take()
    return {"rate": rate, "cpu_us": cpu / requests * 1e6 if requests else 0.0, "p50_us": p50}


def median_of(rounds, key):
    return statistics.median(r[key] for r in rounds)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ringsock", default="build/tools/ringsock/ringsock")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--only", default="redis,nginx,sockperf,custom")
    a = p.parse_args(argv)
    two = (os.cpu_count() or 1) >= 2
    server_cpu, client_cpu = (0, 1) if two else (None, None)
    work = tempfile.mkdtemp(prefix="ringsock-clients-")
    meter = CpuMeter()
    rows = []  # (case, client, rounds)
    only = set(a.only.split(","))

    def pair(case, ours, theirs, their_name, variants=()):
        """ringsock load, its variants (name, measure args) and the other
        client, alternating round by round."""
        clients = [("ringsock load", ours)] + list(variants) + [(their_name, theirs)]
        results = {name: [] for name, _ in clients}
        for _ in range(a.rounds):
            for name, args in clients:
                results[name].append(measure(meter, *args))
        for name, _ in clients:
            rows.append((case, name, results[name]))

    # A client that sleeps between replies makes a server on the same machine
    # pay to wake it, once per reply: a short poll, then a coalesced sleep.
    tuned = ["--busy-poll", "5", "--batch-wait", "10"]
    tuned_name = "ringsock load " + " ".join(tuned)

    try:
        c = a.connections
        if "redis" in only and shutil.which("redis-server") and shutil.which("redis-benchmark"):
            port = free_port()
            server = start_server(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no"], port, server_cpu, work,
                                  "redis")
            url = "tcp://127.0.0.1:%d" % port
            for pipeline in (1, 16):
                ping = ["--request", r"PING\r\n", "--reply", "resp", "--expect", r"+PONG\r\n",
                        "--connections", str(c), "--inflight", str(pipeline)]
                ours = (ringsock_load, a, client_cpu, url, ping)
                first = measure(meter, *ours)  # also sizes redis-benchmark's -n
                theirs = (redis_benchmark, a, client_cpu, port, c, pipeline, first["rate"])
                pair("redis PING, %d conn, pipeline %d" % (c, pipeline), ours, theirs,
                     "redis-benchmark",
                     [(tuned_name, (ringsock_load, a, client_cpu, url, ping + tuned))])
            procs.stop(server)
        if "nginx" in only and shutil.which("nginx") and shutil.which("wrk"):
            port = free_port()
            conf = nginx_config(work, port)
            server = start_server(["nginx", "-c", conf, "-p", work], port, server_cpu, work,
                                  "nginx")
            url = "tcp://127.0.0.1:%d" % port
            get = ["--request", r"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                   "--reply", "http", "--expect-status", "200", "--connections", str(c)]
            ours = (ringsock_load, a, client_cpu, url, get)
            pair("nginx GET, %d conn" % c, ours, (wrk, a, client_cpu, port, c), "wrk -t1",
                 [(tuned_name, (ringsock_load, a, client_cpu, url, get + tuned))])
            procs.stop(server)
        if "sockperf" in only and shutil.which("sockperf"):
            port = free_port()
            server = start_server([a.ringsock, "serve", "tcp://127.0.0.1:%d" % port, "--mode",
                                   "sockperf"], port, server_cpu, work, "serve-sockperf")
            url = "tcp://127.0.0.1:%d" % port
            pingpong = ["--sockperf", "--size", "64", "--nodelay"]
            ours = (ringsock_load, a, client_cpu, url, pingpong)
            # sockperf blocks in recvfrom; a client that polls first never
            # sleeps, for a core's worth of CPU: shown apart.
            polled = (ringsock_load, a, client_cpu, url, pingpong + ["--busy-poll", "50"])
            # The epoll backend sleeps in epoll_wait and reads with recv, the
            # wake-up path sockperf's blocking recvfrom takes.
            on_epoll = (ringsock_load, a, client_cpu, url, pingpong + ["--backend", "epoll"])
            pair("sockperf ping-pong, 1 TCP conn, 64 B", ours,
                 (sockperf_pingpong, a, client_cpu, port), "sockperf",
                 [("ringsock load --busy-poll 50", polled),
                  ("ringsock load --backend epoll", on_epoll)])
            procs.stop(server)
        if "custom" in only:
            port = free_port()
            server = start_server([a.ringsock, "serve", "tcp://127.0.0.1:%d" % port], port,
                                  server_cpu, work, "serve-echo")
            url = "tcp://127.0.0.1:%d" % port
            builtin = (ringsock_load, a, client_cpu, url, ["--size", "64", "--connections", str(c)])
            custom = (ringsock_load, a, client_cpu, url,
                      ["--request", "x" * 63 + r"\n", "--reply-bytes", "64", "--connections",
                       str(c)])
            mine, other = [], []
            for _ in range(a.rounds):
                mine.append(measure(meter, *custom))
                other.append(measure(meter, *builtin))
            rows.append(("echo 64 B, %d conn" % c, "ringsock load --request", mine))
            rows.append(("echo 64 B, %d conn" % c, "ringsock load (built-in)", other))
            procs.stop(server)
    finally:
        procs.kill_all()
        shutil.rmtree(work, ignore_errors=True)

    # Each client against the last of its case (the other tool), round by
    # round: the machine's speed drifts between rounds more than the clients
    # differ, and a ratio within one round cancels the drift.
    last = {case: rounds for case, _, rounds in rows}
    print("| case | client | requests/s | client CPU us/request | p50 us | rate ratio | CPU ratio |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for case, client, rounds in rows:
        ref = last[case]
        if ref is rounds:
            rate_ratio = cpu_ratio = "1"
        else:
            rate_ratio = "%.3f" % statistics.median(
                m["rate"] / r["rate"] for m, r in zip(rounds, ref) if r["rate"])
            cpu_ratio = "%.3f" % statistics.median(
                m["cpu_us"] / r["cpu_us"] for m, r in zip(rounds, ref) if r["cpu_us"])
        print("| %s | %s | %.0f | %.2f | %.1f | %s | %s |" % (
            case, client, median_of(rounds, "rate"), median_of(rounds, "cpu_us"),
            median_of(rounds, "p50_us"), rate_ratio, cpu_ratio))
    print("\nmedians of %d rounds of %gs; server on CPU %s, client on CPU %s; ratios: each"
          " client's to the last of its case in the same round, median over the rounds"
          % (a.rounds, a.seconds, server_cpu, client_cpu))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
