#!/usr/bin/env python3
"""prom_check.py [--reread SECONDS] FILE [SERIES...] - checks that FILE is
well-formed Prometheus text exposition (promtool is not available), then
prints the value of each SERIES given (a metric name with its labels exactly
as written, e.g. 'verdictd_queue_packets_total{queue="0"}'), one per line, or
"absent". With --reread, FILE is read and checked again and again for that
long (a file replaced meanwhile must never be seen partial).

Checked: every line is a HELP, a TYPE or a sample line of the grammar; each
metric has exactly one HELP and one TYPE, before its samples; samples of a
metric are contiguous; counters end in _total; label values are escaped
(only \\\\, \\" and \\n); no series appears twice; the file ends in a newline.
Exit status 1 with one line saying what and where when it is not."""
import re
import sys
import time

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\[\\"n]|[^"\\\n])*"'
SAMPLE = re.compile(rf"^({NAME})((?:\{{{LABEL}(?:,{LABEL})*\}})?) "
                    r"(-?[0-9]+(?:\.[0-9]*)?(?:e[-+]?[0-9]+)?|NaN|[+-]Inf)$")
HELP = re.compile(rf"^# HELP ({NAME}) (.+)$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")


def fail(msg):
    print(f"prom_check: {msg}")
    sys.exit(1)


def parse(text):
    if not text.endswith("\n"):
        fail("the text does not end with a newline (cut short?)")
    helps, types, series, done = {}, {}, {}, set()
    current = None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        if m := HELP.match(line):
            name = m.group(1)
            if name in helps:
                fail(f"line {n}: a second HELP for {name}")
            helps[name] = n
        elif m := TYPE.match(line):
            name = m.group(1)
            if name in types:
                fail(f"line {n}: a second TYPE for {name}")
            if name not in helps:
                fail(f"line {n}: TYPE of {name} before its HELP")
            types[name] = m.group(2)
            if m.group(2) == "counter" and not name.endswith("_total"):
                fail(f"line {n}: counter {name} does not end in _total")
        elif m := SAMPLE.match(line):
            name = m.group(1)
            if name not in types:
                fail(f"line {n}: sample of {name} before its TYPE")
            if name != current:
                if name in done:
                    fail(f"line {n}: samples of {name} are not together")
                if current:
                    done.add(current)
                current = name
            key = name + m.group(2)
            if key in series:
                fail(f"line {n}: {key} appears twice")
            series[key] = m.group(3)
        else:
            fail(f"line {n}: not HELP, TYPE or a sample: {line!r}")
    return series


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def main():
    args = sys.argv[1:]
    reread = 0.0
    if args[0] == "--reread":
        reread = float(args[1])
        args = args[2:]
    end, reads = time.monotonic() + reread, 0
    while True:
        series = parse(read(args[0]))
        reads += 1
        if time.monotonic() >= end:
            break
    if reread and reads < 10:
        fail(f"read {args[0]} only {reads} times in {reread} s")
    for key in args[1:]:
        print(series.get(key, "absent"))


main()
