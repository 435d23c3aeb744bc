#!/usr/bin/env python3
"""rewrite_peer.py - both ends of the traffic tests/netns/rewrite.sh rewrites.
Every mode ends on its own within the time it is given.

  udp-recv ADDR PORT COUNT SECS   bind ADDR:PORT, print each datagram's
                                  payload (repr of the bytes, one per line)
                                  until COUNT arrived or SECS passed
  udp-send ADDR PORT TEXT...      send each TEXT as one datagram
  tcp-echo ADDR PORT SECS         accept one connection, echo what it
                                  reads until it closes or SECS passed
  tcp-talk ADDR PORT ROUNDS TEXT  connect, send TEXT ROUNDS times (one at a
                                  time) and print each echo as repr
"""
import socket
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def udp_recv(addr, port, count, secs):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    end = time.monotonic() + float(secs)
    got = 0
    print("listening", flush=True)
    while got < int(count):
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data = s.recv(70000)
        except socket.timeout:
            break
        print(repr(data), flush=True)
        got += 1


def udp_send(addr, port, *texts):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    for t in texts:
        s.sendto(t.encode(), (addr, int(port)))
        time.sleep(0.02)


def tcp_echo(addr, port, secs):
    srv = socket.socket(family(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(1)
    srv.settimeout(float(secs))
    print("listening", flush=True)
    try:
        c, _ = srv.accept()
    except socket.timeout:
        return
    c.settimeout(float(secs))
    try:
        while True:
            data = c.recv(65536)
            if not data:
                break
            c.sendall(data)
    except socket.timeout:
        pass


def tcp_talk(addr, port, rounds, text):
    s = socket.create_connection((addr, int(port)), timeout=3)
    for _ in range(int(rounds)):
        s.sendall(text.encode())
        want, got = len(text), b""
        while len(got) < want:
            chunk = s.recv(want - len(got))
            if not chunk:
                break
            got += chunk
        print(repr(got), flush=True)
    s.close()


MODES = {"udp-recv": udp_recv, "udp-send": udp_send, "tcp-echo": tcp_echo,
         "tcp-talk": tcp_talk}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    MODES[sys.argv[1]](*sys.argv[2:])
