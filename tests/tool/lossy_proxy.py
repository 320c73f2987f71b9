#!/usr/bin/env python3
"""A small user-space proxy that damages a path on purpose, for tests
(`netem` is not in every kernel the suite runs on).

  lossy_proxy.py udp|tcp LISTEN_PORT UPSTREAM_HOST:PORT [options]

UDP: datagrams from clients go to the upstream, each client through a socket
of its own so that the replies find their way back. Every --drop-every Nth
datagram toward the upstream is dropped (exactly: the 1st to (N-1)th pass,
the Nth goes, and so on, counted over all clients); --delay-ms holds each one
that long; --reorder-every M holds every Mth one back and sends it after the
next (or after 50 ms when no next comes). Replies pass unharmed.
TCP: each connection is relayed both ways, every chunk cut into pieces of 1
to 64 bytes and the pieces spaced by --delay-ms: the bytes arrive in new
chunks, late, never lost (TCP stays exact). --reset-every K resets every
Kth connection it accepts (SO_LINGER 0 and close) instead of relaying it: a
server that resets every Kth connection.

Prints `listening PORT` once bound (LISTEN_PORT 0 picks a free one), and on
SIGTERM or SIGINT `forwarded N dropped N reordered N reset N` before it exits.
"""
import argparse
import heapq
import random
import select
import signal
import socket
import struct
import sys
import threading
import time


def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("transport", choices=["udp", "tcp"])
    parser.add_argument("listen_port", type=int)
    parser.add_argument("upstream")
    parser.add_argument("--drop-every", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--reorder-every", type=int, default=0)
    parser.add_argument("--reset-every", type=int, default=0)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    args.upstream = (host, int(port))
    return args


class Counters:
    forwarded = 0
    dropped = 0
    reordered = 0
    reset = 0


def report(counters):
    print(f"forwarded {counters.forwarded} dropped {counters.dropped} "
          f"reordered {counters.reordered} reset {counters.reset}", flush=True)


def run_udp(args, counters):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", args.listen_port))
    print(f"listening {listener.getsockname()[1]}", flush=True)
    upstream_of = {}  # client address -> its socket toward the upstream
    client_of = {}    # that socket -> the client address
    due = []          # (time, order, socket, datagram): delayed sends
    held = None       # (socket, datagram) held back to be reordered
    held_until = 0.0  # when a held datagram goes anyway
    seen = order = 0
    while True:
        wakes = ([due[0][0]] if due else []) + ([held_until] if held is not None else [])
        wake = min(wakes, default=None)
        timeout = None if wake is None else max(0.0, wake - time.monotonic())
        readable, _, _ = select.select([listener, *client_of], [], [], timeout)
        for sock in readable:
            if sock is listener:
                data, client = listener.recvfrom(65535)
                seen += 1
                if args.drop_every and seen % args.drop_every == 0:
                    counters.dropped += 1
                    continue
                if client not in upstream_of:
                    toward = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    toward.connect(args.upstream)
                    upstream_of[client] = toward
                    client_of[toward] = client
                toward = upstream_of[client]
                if args.reorder_every and held is None and seen % args.reorder_every == 0:
                    held = (toward, data)
                    held_until = time.monotonic() + 0.05
                    continue
                order += 1
                heapq.heappush(due, (time.monotonic() + args.delay_ms / 1000, order, toward, data))
                if held is not None:
                    order += 1
                    heapq.heappush(due, (time.monotonic() + args.delay_ms / 1000, order, *held))
                    held = None
                    counters.reordered += 1
            else:
                try:
                    data = sock.recv(65535)
                except OSError:  # the upstream refused (ICMP): the client times out
                    continue
                listener.sendto(data, client_of[sock])
        now = time.monotonic()
        if held is not None and held_until <= now:
            order += 1
            heapq.heappush(due, (now, order, *held))
            held = None
        while due and due[0][0] <= now:
            _, _, toward, data = heapq.heappop(due)
            try:
                toward.send(data)
                counters.forwarded += 1
            except OSError:
                pass


def relay(source, sink, delay_s, counters):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            at = 0
            while at < len(data):
                piece = random.randint(1, 64)
                sink.sendall(data[at:at + piece])
                at += piece
                if delay_s:
                    time.sleep(delay_s)
            counters.forwarded += len(data)
    except OSError:
        pass
    for sock in (sink, source):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def run_tcp(args, counters):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.listen_port))
    listener.listen(128)
    print(f"listening {listener.getsockname()[1]}", flush=True)
    accepted = 0
    while True:
        client, _ = listener.accept()
        accepted += 1
        if args.reset_every and accepted % args.reset_every == 0:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            counters.reset += 1
            continue
        upstream = socket.create_connection(args.upstream)
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=relay, daemon=True,
                             args=(source, sink, args.delay_ms / 1000, counters)).start()


def main():
    args = parse()
    random.seed(1)
    counters = Counters()

    def stop(*_):
        report(counters)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    (run_udp if args.transport == "udp" else run_tcp)(args, counters)


if __name__ == "__main__":
    main()
