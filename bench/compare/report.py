"""Medians over rounds, ratios to the best peer, the Markdown tables and the
targets of issue 6."""
import statistics

from workloads import BUSY_POLL, BUSY_POLL_US, OPTIONAL, PEERS, RINGSOCK

TARGET_RATE_ROWS = ["W1-64B-c50", "W1-64B-c500", "W1-512B-c50", "W1-512B-c500",
                    "W3-unix-c50", "W4-udp-echo", "W4-udp-sink", "W6-churn"]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values):
    """Half the range over the median, as a fraction."""
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    m = statistics.median(values)
    return (max(values) - min(values)) / 2 / m if m else None


class Cell:
    def __init__(self, runs):
        ok = [r for r in runs if r["error"] is None]
        self.runs = runs
        self.ok = ok
        self.rate = median(r["rate"] for r in ok)
        self.rate_spread = spread(r["rate"] for r in ok)
        self.cpu_us = median(r["cpu_us"] for r in ok)
        self.lat = None
        lats = [r["lat"] for r in ok if r.get("lat")]
        if lats:
            self.lat = {k: median(l.get(k) for l in lats) for k in ("p50", "p99", "p99.9")}
        self.errors = [r["error"] for r in runs if r["error"]]
        self.notes = sorted({n for r in runs for n in r["notes"]})
        self.flagged = any(r.get("errors") or r.get("verification_failures") for r in ok)


def aggregate(results):
    cells = {}
    by_key = {}
    for r in results:
        by_key.setdefault((r["workload"], r["server"]), []).append(r)
    for key, runs in by_key.items():
        cells[key] = Cell(runs)
    return cells


def best_peer(cells, wid, servers, key=lambda c: c.rate, lowest=False):
    """(peer, value) of the best peer on this row, or (None, None)."""
    best = (None, None)
    for s in servers:
        if s not in PEERS:
            continue
        c = cells.get((wid, s))
        v = key(c) if c else None
        if v is None:
            continue
        if best[1] is None or (v < best[1] if lowest else v > best[1]):
            best = (s, v)
    return best


def ratio(a, b):
    return a / b if a is not None and b else None


# ---------------------------------------------------------------- formatting

def fmt_rate(v, metric):
    if v is None:
        return "-"
    if metric == "GB/s":
        return "%.2f" % v
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.0f" % v


def fmt_ratio(v):
    return "-" if v is None else "%.2fx" % v


def fmt_us(v):
    if v is None:
        return "-"
    return "%.2f" % v if v < 10 else "%.1f" % v if v < 100 else "%.0f" % v


def _cell_text(cell, text):
    if cell is None:
        return "n/a"
    if cell.rate is None and cell.lat is None:
        return "error"
    mark = "!" if cell.flagged else ""
    return text + mark


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(
        ["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for row in rows:
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def rate_table(cells, workloads, servers):
    cols = [s for s in servers]
    header = ["workload", "unit"] + cols + ["best peer", "uring/best", "epoll/best",
                                            "epoll/plain epoll"]
    rows = []
    for w in workloads:
        row = [w.id, "round trips/s" if w.metric == "lat" else w.metric]
        for s in cols:
            c = cells.get((w.id, s))
            if c is None:
                row.append("n/a" if not w.applies_to(s) else "-")
                continue
            text = fmt_rate(c.rate, w.metric)
            if c.rate_spread is not None and c.rate is not None:
                text += " ±%.0f%%" % (c.rate_spread * 100)
            row.append(_cell_text(c, text))
        peer, value = best_peer(cells, w.id, servers)
        row.append("%s %s" % (peer, fmt_rate(value, w.metric)) if peer else "-")
        u = cells.get((w.id, "ringsock-uring"))
        e = cells.get((w.id, "ringsock-epoll"))
        p = cells.get((w.id, "epoll"))
        row.append(fmt_ratio(ratio(u.rate if u else None, value)))
        row.append(fmt_ratio(ratio(e.rate if e else None, value)))
        row.append(fmt_ratio(ratio(e.rate if e else None, p.rate if p else None)))
        rows.append(row)
    return table(header, rows)


def cpu_table(cells, workloads, servers):
    header = ["workload", "per"] + list(servers) + ["lowest peer", "uring/lowest",
                                                    "epoll/lowest"]
    per = {"msg/s": "message", "pkt/s": "datagram", "GB/s": "64 KiB", "conn/s": "connection",
           "lat": "round trip"}
    rows = []
    for w in workloads:
        row = [w.id, per[w.metric]]
        for s in servers:
            c = cells.get((w.id, s))
            row.append(_cell_text(c, fmt_us(c.cpu_us)) if c else "n/a")
        peer, value = best_peer(cells, w.id, servers, key=lambda c: c.cpu_us, lowest=True)
        row.append("%s %s" % (peer, fmt_us(value)) if peer else "-")
        for s in RINGSOCK:
            c = cells.get((w.id, s))
            row.append(fmt_ratio(ratio(c.cpu_us if c else None, value)))
        rows.append(row)
    return table(header, rows)


def latency_table(cells, workloads, servers):
    header = ["workload", "server", "p50 us", "p99 us", "p99.9 us", "p50 / best peer p50",
              "p99 / best peer p99"]
    rows = []
    for w in workloads:
        if w.metric != "lat":
            continue
        p50 = best_peer(cells, w.id, servers, key=lambda c: c.lat and c.lat["p50"], lowest=True)
        p99 = best_peer(cells, w.id, servers, key=lambda c: c.lat and c.lat["p99"], lowest=True)
        for s in servers:
            c = cells.get((w.id, s))
            if c is None:
                continue
            if c.lat is None:
                rows.append([w.id, s, "error", "", "", "", ""])
                continue
            ours = s in RINGSOCK or s in OPTIONAL
            r50 = ratio(c.lat["p50"], p50[1]) if ours else None
            r99 = ratio(c.lat["p99"], p99[1]) if ours else None
            rows.append([w.id, s, fmt_us(c.lat["p50"]), fmt_us(c.lat["p99"]),
                         fmt_us(c.lat["p99.9"]), fmt_ratio(r50) if r50 else "",
                         fmt_ratio(r99) if r99 else ""])
    return table(header, rows)


def targets(cells, workloads, servers):
    """Lines "- MET/NOT MET/UNMEASURED: ..." for the targets of issue 6."""
    ids = {w.id for w in workloads}
    lines = []

    def verdict(ok):
        return "MET" if ok else "NOT MET"

    for wid in TARGET_RATE_ROWS:
        if wid not in ids:
            continue
        u = cells.get((wid, "ringsock-uring"))
        peer, best = best_peer(cells, wid, servers)
        r = ratio(u.rate if u else None, best)
        if r is None:
            lines.append("- UNMEASURED: %s io_uring rate vs best peer" % wid)
        else:
            lines.append("- %s: %s io_uring rate %.3fx best peer (%s), target >= 1.10x%s" % (
                verdict(r >= 1.10), wid, r, peer,
                "" if r >= 1.10 else "; short by %.1f%%" % ((1.10 - r) / 1.10 * 100)))
        cpeer, cbest = best_peer(cells, wid, servers, key=lambda c: c.cpu_us, lowest=True)
        cr = ratio(u.cpu_us if u else None, cbest)
        if cr is None:
            lines.append("- UNMEASURED: %s io_uring CPU per message vs lowest peer" % wid)
        else:
            lines.append("- %s: %s io_uring CPU/msg %.3fx lowest peer (%s), target <= 0.85x%s" % (
                verdict(cr <= 0.85), wid, cr, cpeer,
                "" if cr <= 0.85 else "; over by %.1f%%" % ((cr - 0.85) / 0.85 * 100)))
    if "W5-bulk" in ids:
        u = cells.get(("W5-bulk", "ringsock-uring"))
        i = cells.get(("W5-bulk", "iperf3"))
        r = ratio(u.rate if u else None, i.rate if i else None)
        if r is None:
            lines.append("- UNMEASURED: W5 io_uring vs iperf3")
        else:
            lines.append("- %s: W5 io_uring %.2f GB/s = %.3fx iperf3 (%.2f GB/s), target >= 0.95x"
                         % (verdict(r >= 0.95), u.rate, r, i.rate))
    for wid in ("W2-tcp", "W2-udp"):
        if wid not in ids:
            continue
        u = cells.get((wid, "ringsock-uring"))
        for pct in ("p50", "p99"):
            peer, best = best_peer(cells, wid, servers, key=lambda c: c.lat and c.lat[pct],
                                   lowest=True)
            mine = u.lat[pct] if u and u.lat else None
            if mine is None or best is None:
                lines.append("- UNMEASURED: %s io_uring %s vs best peer" % (wid, pct))
            else:
                lines.append("- %s: %s io_uring %s %.1f us vs best peer %.1f us (%s), target <= 1.0x"
                             % (verdict(mine <= best), wid, pct, mine, best, peer))
            for b in BUSY_POLL:  # the optional mode, apart from the verdicts
                c = cells.get((wid, b))
                if c and c.lat and best is not None:
                    lines.append("- (reported apart) %s io_uring --busy-poll %d: %s %.1f us = "
                                 "%.2fx best peer" % (wid, BUSY_POLL_US, pct, c.lat[pct],
                                                      c.lat[pct] / best))
    worst = None
    for w in workloads:
        if w.metric == "lat":
            continue
        e = cells.get((w.id, "ringsock-epoll"))
        p = cells.get((w.id, "epoll"))
        r = ratio(e.rate if e else None, p.rate if p else None)
        if r is not None and (worst is None or r < worst[1]):
            worst = (w.id, r)
    if worst is None:
        lines.append("- UNMEASURED: ringsock epoll vs plain epoll")
    else:
        lines.append("- %s: ringsock epoll >= 1.0x plain epoll on every rate row (lowest %.3fx, %s)"
                     % (verdict(worst[1] >= 1.0), worst[1], worst[0]))
    return lines


def problems(cells):
    lines = []
    for (wid, s), c in sorted(cells.items()):
        for e in sorted(set(c.errors)):
            lines.append("- %s / %s: %s" % (wid, s, e))
        for n in c.notes:
            lines.append("- %s / %s: note: %s" % (wid, s, n))
    return lines
