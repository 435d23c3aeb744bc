#!/usr/bin/env python3
"""kernel_verdict_peer.py - the ends of the reject and bypass namespace tests.

  listen tcp|udp ADDR PORT         accept TCP connections (echo what comes) or
                                   take UDP datagrams (a line "got" each),
                                   until killed; prints "listening" once bound
  connect ADDR PORT                one TCP connect (2 s): prints "refused",
                                   "timeout" or "connected"
  udp-probe ADDR PORT              one datagram on a connected UDP socket, then
                                   a receive (2 s): "refused" (an ICMP error
                                   came back) or "timeout"
  transfer ADDR PORT BYTES         one TCP connection, BYTES sent and echoed
                                   back: prints "echoed=N" (N bytes back)
  udp-send ADDR PORT COUNT GAP_MS  COUNT datagrams from one socket (one flow),
                                   GAP_MS apart
"""
import time
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listen(proto, addr, port):
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family(addr), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    if proto == "tcp":
        s.listen(16)
    print("listening", flush=True)
    while True:
        if proto == "udp":
            s.recv(65535)
            print("got", flush=True)
            continue
        c, _ = s.accept()
        c.settimeout(5)
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                c.sendall(data)
        except OSError:
            pass
        c.close()


def connect(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((addr, port))
        return "connected"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"


def udp_probe(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((addr, port))
    s.send(b"probe")
    try:
        s.recv(100)
        return "answered"
    except ConnectionRefusedError:
        return "refused"
    except socket.timeout:
        return "timeout"


def transfer(addr, port, nbytes):
    s = socket.create_connection((addr, port), timeout=5)
    payload = bytes(i % 251 for i in range(nbytes))
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        data = s.recv(65536)
        if not data:
            break
        got += data
    return "echoed=%d same=%d" % (len(got), got == payload)


def udp_send(addr, port, count, gap_ms):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, port))
    for i in range(count):
        try:
            s.send(b"datagram %d" % i)
        except OSError:
            pass  # an ICMP error for an earlier one
        time.sleep(gap_ms / 1000)
    return "sent=%d" % count


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "listen":
        listen(args[0], args[1], int(args[2]))
    elif cmd == "connect":
        print(connect(args[0], int(args[1])))
    elif cmd == "udp-probe":
        print(udp_probe(args[0], int(args[1])))
    elif cmd == "udp-send":
        print(udp_send(args[0], int(args[1]), int(args[2]), int(args[3])))
    elif cmd == "transfer":
        print(transfer(args[0], int(args[1]), int(args[2])))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
