"""The comparison's charts, drawn by `ringsock report` (the same drawing code
as every ringsock report, not a second one here):

- the summary: a grouped bar chart, one group per workload, one bar per
  server, heights relative to the best peer on that workload (1.0 = the best
  peer; for latency rows the best p50 over this server's p50, so higher is
  better everywhere), via `ringsock report --bars`;
- one HTML report per workload that ringsock load drove, overlaying every
  server's last-round result (`ringsock report SERVER=RESULT.json ...`)."""
import json
import os
import subprocess

from report import PEERS

REPORT_TIMEOUT_S = 60


def _score(w, cell):
    if cell is None:
        return None
    if w.metric == "lat":
        return 1.0 / cell.lat["p50"] if cell.lat and cell.lat.get("p50") else None
    return cell.rate


def normalized(cells, workloads, servers):
    """{workload id: ({server: value}, base description)}."""
    out = {}
    any_peer = any(s in PEERS for s in servers)
    for w in workloads:
        scores = {s: _score(w, cells.get((w.id, s))) for s in servers}
        peers = [v for s, v in scores.items() if s in PEERS and v]
        if any_peer and not peers:
            continue  # e.g. the sockperf rows: nothing to compare with
        base, what = (max(peers), "best peer") if peers else (
            max([v for v in scores.values() if v] or [0]), "best server")
        if not base:
            continue
        out[w.id] = ({s: v / base for s, v in scores.items() if v}, what)
    return out


def bars(cells, workloads, servers, title):
    """The summary chart as `ringsock report --bars` reads it."""
    data = normalized(cells, workloads, servers)
    rows = [w for w in workloads if w.id in data]
    servers = [s for s in servers if any(s in data[w.id][0] for w in rows)]
    return {"title": title,
            # Short enough for the narrowest chart (two groups).
            "subtitle": "higher is better; latency rows: best peer p50 / this p50",
            "y_label": "rate / the best peer's rate",
            "series": servers,
            "groups": [{"label": w.id, "values": [data[w.id][0].get(s) for s in servers]}
                       for w in rows],
            "reference": 1.0, "y_cap": 4.0}


def _run(argv):
    """None, or why `ringsock report` did not draw."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=REPORT_TIMEOUT_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)
    return None if done.returncode == 0 else (done.stderr.strip() or "exit %d" % done.returncode)


def write_summary(ringsock, path, cells, workloads, servers, title):
    """Writes the summary SVG to path; None, or why it could not."""
    spec = path + ".bars.json"
    with open(spec, "w") as f:
        json.dump(bars(cells, workloads, servers, title), f, indent=1)
    try:
        return _run([ringsock, "report", "--bars", spec, "-o", path])
    finally:
        os.remove(spec)


def write_workload_reports(ringsock, out, stem, results, workloads):
    """One report per workload with ringsock load results: {workload id: file
    name}, and the workloads that could not be drawn with why."""
    pages, failed = {}, []
    for w in workloads:
        last = {}
        for rec in results:  # the last round that left a result file, per server
            path = rec.get("result_file")
            if rec["workload"] == w.id and not rec["error"] and path and os.path.exists(path):
                last[rec["server"]] = path
        if not last:
            continue
        name = "%s-%s.html" % (stem, w.id)
        why = _run([ringsock, "report"] + ["%s=%s" % (s, p) for s, p in sorted(last.items())]
                   + ["-o", os.path.join(out, name)])
        if why:
            failed.append("%s: %s" % (w.id, why))
        else:
            pages[w.id] = name
    return pages, failed
