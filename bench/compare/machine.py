"""What the results were measured on."""
import os
import platform
import re
import subprocess


def _run(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def describe(root, build):
    info = {}
    cpuinfo = _read("/proc/cpuinfo")
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    info["cpu"] = models[0] if models else platform.processor() or platform.machine()
    info["cores"] = "%d online (os.cpu_count), %d usable by this process" % (
        os.cpu_count() or 0, len(os.sched_getaffinity(0)))
    flags = re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.M)
    info["virtualized"] = "yes (hypervisor flag)" if flags and "hypervisor" in flags.group(1).split() \
        else "no hypervisor flag"
    info["kernel"] = "%s %s" % (platform.release(), platform.machine())
    osr = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', _read("/etc/os-release"), re.M))
    info["distro"] = osr.get("PRETTY_NAME", "unknown")
    cache = _read(os.path.join(build, "CMakeCache.txt"))
    m = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.+)$", cache, re.M)
    cxx = m.group(1) if m else "c++"
    info["compiler"] = (_run([cxx, "--version"]).splitlines() or ["unknown"])[0]
    m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache, re.M)
    info["build"] = "%s (%s)" % (m.group(1) if m else "?", os.path.relpath(build, root))
    info["liburing"] = _run(["pkg-config", "--modversion", "liburing"]) or "unknown"
    info["sockperf"] = (_run(["sockperf", "--version"]).splitlines() or [""])[0]
    info["iperf3"] = (_run(["iperf3", "--version"]).splitlines() or [""])[0]
    info["memory"] = (re.findall(r"^MemTotal:\s*(.+)$", _read("/proc/meminfo"), re.M) or ["?"])[0]
    commit = _run(["git", "-C", root, "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"])
    info["commit"] = (commit + (" (with uncommitted changes)" if dirty else "")) or "unknown"
    info["host"] = platform.node() or (_read("/etc/machine-id").strip()[:12]) or "unknown"
    return info
