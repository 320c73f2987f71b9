"""Child processes for the comparison: start pinned, wait until ready, sample
CPU from /proc, stop, and kill every straggler on the way out.

Every child runs in its own session (process group) so that stopping it also
stops anything it forked; only processes started here are ever signalled.
"""
import os
import signal
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

_children = []  # every Popen started here and not yet reaped


class ChildError(Exception):
    pass


def pinned(cpus, argv):
    """argv run through taskset on a CPU list such as "0", "2-9" or "0,2"
    (taskset execs, so the pid is the program's)."""
    if cpus is None:
        return list(argv)
    return ["taskset", "-c", str(cpus)] + list(argv)


def parse_cpus(text):
    """The CPUs of a taskset-style list ("0", "2-9", "0,2,4-5"), sorted; ValueError if bad."""
    cpus = set()
    for part in str(text).split(","):
        low, dash, high = part.strip().partition("-")
        first, last = int(low), int(high) if dash else int(low)
        if first < 0 or last < first:
            raise ValueError(text)
        cpus.update(range(first, last + 1))
    return sorted(cpus)


def spawn(argv, stdout_path, stderr_path, stdin=subprocess.DEVNULL):
    out = open(stdout_path, "wb")
    err = open(stderr_path, "wb")
    try:
        proc = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err, start_new_session=True)
    finally:
        out.close()
        err.close()
    _children.append(proc)
    return proc


def _signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass


def stop(proc, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit status."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(timeout=5)
    else:
        # The leader is gone; anything left in its group goes too.
        _signal_group(proc, signal.SIGKILL)
    if proc in _children:
        _children.remove(proc)
    return proc.returncode


def wait_bounded(proc, timeout):
    """Waits for a child at most `timeout` seconds; kills it past that."""
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc, grace=1.0)
        raise ChildError("timed out after %.0f s and was killed" % timeout)
    _signal_group(proc, signal.SIGKILL)  # stragglers in its group, if any
    if proc in _children:
        _children.remove(proc)
    return rc


def kill_all():
    for proc in list(_children):
        try:
            stop(proc, grace=1.0)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


def wait_ready(proc, stdout_path, stderr_path, patterns, timeout=10.0):
    """Until a stdout line starts with one of `patterns`; raises if the child
    exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(stdout_path, "r", errors="replace") as f:
                for line in f:
                    if any(line.strip().startswith(p) for p in patterns):
                        return
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise ChildError("exited with status %s before it was ready: %s"
                             % (proc.returncode, tail(stderr_path)))
        time.sleep(0.02)
    raise ChildError("not ready after %.0f s: %s" % (timeout, tail(stderr_path) or "(no stderr)"))


def tail(path, lines=3):
    try:
        with open(path, "r", errors="replace") as f:
            text = f.read().strip().splitlines()
    except FileNotFoundError:
        return ""
    return " | ".join(text[-lines:])


def cpu_seconds(pid):
    """utime + stime of a process (all its threads) from /proc/PID/stat, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    # After "pid (comm)": state is field 3, utime 14, stime 15 (1-based).
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLK_TCK


def udp_drops(port):
    """Datagrams dropped so far by the UDP socket(s) bound to `port` (a full
    receive buffer), from the last column of /proc/net/udp; None if no such
    socket. Per socket, so other UDP traffic on the machine does not count."""
    if not port:
        return None
    total, found = 0, False
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    fields = line.split()
                    if len(fields) < 13 or int(fields[1].rsplit(":", 1)[1], 16) != port:
                        continue
                    if fields[2].rsplit(":", 1)[1] != "0000":
                        continue  # a connected socket (a client), not the server's
                    total += int(fields[-1])
                    found = True
        except (OSError, ValueError):
            continue
    return total if found else None


class Window:
    """Server CPU and UDP counters sampled at two instants inside the client's
    measured window."""

    def __init__(self, udp_port=None):
        self.udp_port = udp_port
        self.t = []
        self.cpu = []
        self.udp = []

    def sample(self, pids):
        """CPU of every server process (several instances of one server count as one)."""
        self.t.append(time.monotonic())
        seconds = [cpu_seconds(pid) for pid in pids]
        self.cpu.append(None if None in seconds else sum(seconds))
        self.udp.append(udp_drops(self.udp_port))

    def complete(self):
        return len(self.t) == 2 and None not in self.cpu and self.t[1] > self.t[0]

    def seconds(self):
        return self.t[1] - self.t[0] if self.complete() else None

    def cpu_fraction(self):
        """Server CPU seconds per wall second over the window."""
        if not self.complete():
            return None
        return (self.cpu[1] - self.cpu[0]) / (self.t[1] - self.t[0])

    def udp_drop_rate(self):
        """Datagrams per second the server's socket dropped over the window."""
        if not self.complete() or None in self.udp:
            return None
        return (self.udp[1] - self.udp[0]) / (self.t[1] - self.t[0])


def _seen(paths, marker):
    for path in paths:
        try:
            with open(path, "r", errors="replace") as f:
                if marker in f.read():
                    return True
        except OSError:
            pass
    return False


def sample_window(servers, client, start_s, length_s, t0, marker=None, marker_files=(),
                  udp_port=None):
    """Samples the server processes at t0+start and t0+start+length, unless
    the client ends first. With a marker, t0 is when the marker first shows in the client's
    output (sockperf's "Starting test", after its own pre-warmup)."""
    window = Window(udp_port)
    if marker:
        deadline = time.monotonic() + 30
        while not _seen(marker_files, marker):
            if client.poll() is not None or time.monotonic() > deadline:
                return window
            time.sleep(0.01)
        t0 = time.monotonic()
    for when in (t0 + start_s, t0 + start_s + length_s):
        while time.monotonic() < when:
            if client.poll() is not None:
                return window
            time.sleep(min(0.02, max(0.0, when - time.monotonic())))
        if client.poll() is not None or any(s.poll() is not None for s in servers):
            return window
        window.sample([s.pid for s in servers])
    return window
