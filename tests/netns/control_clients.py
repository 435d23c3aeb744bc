#!/usr/bin/env python3
"""control_clients.py - misbehaving clients (and a silent server) for
verdictd's control socket, for tests/netns/control.sh. Every mode ends on its
own: nothing here waits longer than the time it is given.

  idle PATH N HOLD         connect N clients that send nothing; print
                           "connected K busy B" (K connected, B of them told
                           "error: busy"), hold them HOLD s
  slow PATH INTERVAL HOLD  send one byte every INTERVAL s for HOLD s; print
                           "started" after the first
  noread PATH CMD HOLD     send CMD and a newline, never read, hold HOLD s;
                           print "sent"
  send PATH TEXT           send TEXT (Python escapes: \\0, \\n) as it is, shut
                           down writing, print the answer (3 s at most)
  server PATH HOLD         listen at PATH, accept, never answer; print
                           "listening"; exit after HOLD s
  stale PATH               leave a socket file at PATH that nobody serves
"""
import socket
import sys
import time


def connect(path, timeout=2.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def say(text):
    print(text, flush=True)


def idle(path, n, hold):
    held = []
    for _ in range(int(n)):
        try:
            held.append(connect(path))
        except OSError:
            pass
    # A client beyond the daemon's limit is told so at once and dropped.
    time.sleep(0.3)
    busy = 0
    for s in held:
        s.setblocking(False)  # with a timeout set, recv would wait for data
        try:
            if s.recv(64, socket.MSG_DONTWAIT | socket.MSG_PEEK).startswith(b"error: busy"):
                busy += 1
        except OSError:
            pass
    say("connected %d busy %d" % (len(held), busy))
    time.sleep(float(hold))


def slow(path, interval, hold):
    s = connect(path)
    end = time.monotonic() + float(hold)
    first = True
    while time.monotonic() < end:
        try:
            s.send(b"p")
        except OSError:
            break  # the daemon dropped it: fine
        if first:
            say("started")
            first = False
        time.sleep(float(interval))


def noread(path, cmd, hold):
    s = connect(path)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.send(cmd.encode() + b"\n")
    say("sent")
    time.sleep(float(hold))


def send(path, text):
    s = connect(path, 3.0)
    s.sendall(text.encode("latin-1").decode("unicode_escape").encode("latin-1"))
    s.shutdown(socket.SHUT_WR)
    answer = b""
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        answer += chunk
    sys.stdout.write(answer.decode("latin-1"))


def server(path, hold):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    say("listening")
    s.settimeout(0.1)
    held = []
    end = time.monotonic() + float(hold)
    while time.monotonic() < end:
        try:
            held.append(s.accept()[0])
        except socket.timeout:
            pass


def stale(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()


MODES = {"idle": idle, "slow": slow, "noread": noread, "send": send, "server": server,
         "stale": stale}

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in MODES:
        sys.exit(__doc__)
    MODES[sys.argv[1]](*sys.argv[2:])
