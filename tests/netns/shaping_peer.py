#!/usr/bin/env python3
"""shaping_peer.py - sender and receiver in one process for tests/netns/shaping.sh.

  shaping_peer.py ADDR COUNT RATE SIZE DRAIN SKIP_BYTES PORT...

Sends COUNT UDP datagrams of SIZE payload bytes to each PORT, open loop at
RATE datagrams per second per port (the ports interleaved), each carrying its
sequence number in its first 8 bytes, and receives them on ADDR:PORT. Stops
receiving when every datagram arrived or DRAIN seconds after the last send.
Prints one line per port:

  port= sent= received= send_errors= reordered= seq_hash= rate_bps= span_s=

seq_hash: SHA-256 (first 16 hex digits) of the sorted sequence numbers that
arrived, so two runs that lost the same datagrams print the same hash.
reordered: datagrams that arrived after one with a higher sequence number.
rate_bps: IP-level bits per second (payload + 28 header bytes, what the
engine's token bucket counts) from the arrival that first takes the running
total past SKIP_BYTES to the last arrival: the shaped rate once the bucket's
burst is spent (0 when fewer than two arrivals follow it).
Every loop is bounded by COUNT and the time given.
"""
import hashlib
import selectors
import socket
import struct
import sys
import threading
import time

IP_UDP_HEADERS = 28
BUF = 8 << 20


def main():
    if len(sys.argv) < 8:
        sys.exit(__doc__)
    addr, count, rate, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    drain, skip_bytes = float(sys.argv[5]), int(sys.argv[6])
    ports = [int(p) for p in sys.argv[7:]]
    if size < 8:
        sys.exit("shaping_peer.py: SIZE must be at least 8 (the sequence number)")

    sel = selectors.DefaultSelector()
    rx, tx, arrivals = {}, {}, {}
    for port in ports:
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        r.setsockopt(socket.SOL_SOCKET, 33, BUF)  # SO_RCVBUFFORCE: root, no kernel drops
        r.bind((addr, port))
        r.setblocking(False)
        sel.register(r, selectors.EVENT_READ, port)
        rx[port] = r
        t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        t.setsockopt(socket.SOL_SOCKET, 32, BUF)  # SO_SNDBUFFORCE: held packets count here
        tx[port] = t
        arrivals[port] = []

    sent = {p: 0 for p in ports}
    errors = {p: 0 for p in ports}
    done = threading.Event()
    pad = bytes(size - 8)

    def send():
        start = time.monotonic()
        for seq in range(count):
            late = start + seq / rate - time.monotonic()
            if late > 0:
                time.sleep(late)
            payload = struct.pack("!Q", seq) + pad
            for port in ports:
                try:
                    tx[port].sendto(payload, (addr, port))
                    sent[port] += 1
                except OSError:
                    errors[port] += 1
        done.set()

    sender = threading.Thread(target=send)
    sender.start()
    want = count * len(ports)
    got = 0
    # The sender needs count / rate seconds; beyond twice that plus the
    # drain, something is stuck: give up and report what arrived.
    hard_end = time.monotonic() + 2 * count / rate + drain + 5
    drain_end = None
    while got < want:
        now = time.monotonic()
        if drain_end is None and done.is_set():
            drain_end = now + drain
        end = min(hard_end, drain_end) if drain_end else hard_end
        if now >= end:
            break
        for key, _ in sel.select(min(0.05, end - now)):
            for _ in range(256):
                try:
                    data = key.fileobj.recv(70000)
                except BlockingIOError:
                    break
                arrivals[key.data].append((struct.unpack("!Q", data[:8])[0], time.monotonic(),
                                           len(data) + IP_UDP_HEADERS))
                got += 1
    sender.join(timeout=max(0.0, hard_end - time.monotonic()) + 1)

    for port in ports:
        a = arrivals[port]
        seqs = sorted(s for s, _, _ in a)
        digest = hashlib.sha256(b"".join(struct.pack("!Q", s) for s in seqs)).hexdigest()[:16]
        reordered, high = 0, -1
        for s, _, _ in a:
            if s < high:
                reordered += 1
            high = max(high, s)
        rate_bps, span, total, first = 0.0, 0.0, 0, None
        for i, (_, t, n) in enumerate(a):
            total += n
            if total > skip_bytes:
                first = i
                break
        if first is not None and len(a) - first >= 2:
            span = a[-1][1] - a[first][1]
            bits = 8 * sum(n for _, _, n in a[first + 1:])
            rate_bps = bits / span if span > 0 else 0.0
        print(f"port={port} sent={sent[port]} received={len(a)} send_errors={errors[port]} "
              f"reordered={reordered} seq_hash={digest} rate_bps={rate_bps:.0f} span_s={span:.3f}",
              flush=True)


if __name__ == "__main__":
    main()
