#!/usr/bin/env python3
"""/healthz latency of a running gateway while many clients stall half-way through a request.

    python3 bench/slow_clients.py 127.0.0.1:8750 [--stalled 300] [--requests 200]

Starts nothing itself: point it at a `lunli serve` (loopback only, by design). It opens
--stalled connections that each send half a request's headers and then nothing, measures
--requests sequential GET /healthz on fresh connections while they stall, prints p50/p99/max
and how many failed, then reports how many stalled connections the gateway closed within
--wait seconds (its header timeout, 10 s by default). Python 3 standard library only.
"""

import argparse
import ipaddress
import select
import socket
import sys
import time

HALF_SENT = b"POST /v1/decisions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n"


def address(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise argparse.ArgumentTypeError(f"{text}: only loopback addresses are benchmarked")
    return host, int(port)


def healthz(addr, timeout):
    """Seconds to a complete answer, and its status line."""
    started = time.perf_counter()
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(HEALTHZ)
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
    return time.perf_counter() - started, answer.split(b"\r\n", 1)[0].decode(errors="replace")


def percentile(sorted_values, p):
    index = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gateway", type=address, help="host:port of a running lunli serve (loopback)")
    parser.add_argument("--stalled", type=int, default=300, help="half-sent requests held open (300)")
    parser.add_argument("--requests", type=int, default=200, help="/healthz requests measured (200)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a /healthz counts as failed")
    parser.add_argument("--wait", type=float, default=15.0, help="seconds to wait for stalled ones to be closed")
    args = parser.parse_args()

    stalled, refused = [], 0
    for _ in range(args.stalled):
        try:
            s = socket.create_connection(args.gateway, timeout=5)
            s.sendall(HALF_SENT)
            stalled.append(s)
        except OSError:
            refused += 1
    print(f"stalled connections: {len(stalled)} open, {refused} refused at connect")

    latencies, failures, statuses = [], 0, {}
    for _ in range(args.requests):
        try:
            seconds, status = healthz(args.gateway, args.timeout)
            statuses[status] = statuses.get(status, 0) + 1
            if " 200 " in status + " ":
                latencies.append(seconds)
            else:
                failures += 1
        except OSError:
            failures += 1
    latencies.sort()
    print(f"/healthz while {len(stalled)} stall: {len(latencies)} ok, {failures} failed; answers {statuses}")
    if latencies:
        ms = lambda v: f"{v * 1000:.2f} ms"
        print(
            f"/healthz latency: p50 {ms(percentile(latencies, 50))}, p99 {ms(percentile(latencies, 99))}, "
            f"max {ms(latencies[-1])}"
        )

    # Which stalled connections does the gateway close, and how soon?
    started, open_ = time.monotonic(), list(stalled)
    closed_at = []
    while open_ and time.monotonic() - started < args.wait:
        readable, _, _ = select.select(open_, [], [], 0.5)
        for s in readable:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_at.append(time.monotonic() - started)
                open_.remove(s)
                s.close()
    for s in open_:
        s.close()
    if closed_at:
        print(
            f"stalled connections closed by the gateway: {len(closed_at)} of {len(stalled)}, "
            f"the last {closed_at[-1]:.1f} s after the measurements ended"
        )
    else:
        print(f"stalled connections closed by the gateway: none within {args.wait:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
