"""A grouped bar chart as hand-written SVG: one group per workload, one bar
per server, heights relative to the best peer on that workload (1.0 = the best
peer; for latency rows the best p50 over this server's p50, so higher is
better everywhere)."""
from xml.sax.saxutils import escape

from report import PEERS

PALETTE = {
    "ringsock-uring": "#d62728", "ringsock-epoll": "#ff9896", "epoll": "#1f77b4",
    "asio-uring": "#2ca02c", "asio-epoll": "#98df8a", "libuv": "#9467bd",
    "libevent": "#8c564b", "threads": "#7f7f7f", "iperf3": "#17becf",
}


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


def write(path, cells, workloads, servers, title):
    data = normalized(cells, workloads, servers)
    rows = [w for w in workloads if w.id in data]
    servers = [s for s in servers if any(s in data[w.id][0] for w in rows)]
    bar, gap, left, top, height = 14, 22, 60, 50, 300
    group_w = max(1, len(servers)) * bar + gap
    width = left + max(1, len(rows)) * group_w + 160
    total_h = top + height + 120
    vmax = max([1.25] + [v for w in rows for v in data[w.id][0].values()])
    vmax = min(vmax, 4.0)
    ticks = [x / 4 for x in range(0, int(vmax * 4) + 1)]

    def y(v):
        return top + height - min(v, vmax) / vmax * height

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="11">' % (width, total_h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>' % (left, escape(title)),
           '<text x="%d" y="36" fill="#444">rate relative to the best peer on each workload '
           '(latency rows: best peer p50 / p50); higher is better</text>' % left]
    for t in ticks:
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (
            left, width - 150, y(t), y(t)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (left - 6, y(t) + 4, t))
    out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="black" stroke-dasharray="5,3"/>'
               % (left, width - 150, y(1.0), y(1.0)))
    for i, w in enumerate(rows):
        values, base = data[w.id]
        x0 = left + i * group_w + gap / 2
        for j, s in enumerate(servers):
            v = values.get(s)
            if v is None:
                continue
            x = x0 + j * bar
            out.append('<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s">'
                       '<title>%s %s: %.2fx %s</title></rect>' % (
                           x, y(v), bar - 2, top + height - y(v), PALETTE.get(s, "#bcbd22"),
                           escape(w.id), escape(s), v, base))
            if v > vmax:
                out.append('<text x="%.1f" y="%.1f" font-size="9">%.1f</text>' % (x, top - 2, v))
        cx = x0 + len(servers) * bar / 2
        out.append('<text transform="translate(%.1f,%d) rotate(-35)" text-anchor="end">%s</text>'
                   % (cx, top + height + 14, escape(w.id)))
    for j, s in enumerate(servers):
        ly = top + j * 18
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (
            width - 140, ly, PALETTE.get(s, "#bcbd22")))
        out.append('<text x="%d" y="%d">%s</text>' % (width - 122, ly + 10, escape(s)))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
