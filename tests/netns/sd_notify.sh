#!/usr/bin/env bash
# sd_notify.sh - what systemd (Type=notify) hears from verdictd, in order:
# READY=1 only once its queue is bound (the listener reads the kernel's queue
# table when READY arrives), RELOADING=1 and READY=1 around a reload that
# loads and around one that is refused (the old rules serve: ready again),
# STOPPING=1 on SIGTERM. A python3 datagram socket stands in for systemd's
# NOTIFY_SOCKET, and verdictd runs as verdictd.service runs it: as a user
# other than root holding CAP_NET_ADMIN alone (ambient, inheritable,
# permitted, effective and bounding), with no_new_privs (setpriv).
source "$(dirname "$0")/lib.sh"
: "${VERDICTCTL:?}"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"

# nobody reads the rules and makes the control socket in $WORK/run.
chmod 0755 "$WORK"
mkdir "$WORK/run"
chown 65534:65534 "$WORK/run"
cat >"$WORK/as-unit.sh" <<SH
#!/bin/sh
exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_admin \\
	--ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin --no-new-privs \\
	"$VERDICTD" "\$@"
SH
chmod 0755 "$WORK/as-unit.sh"

RULES=$WORK/rules.lua
SOCK=$WORK/run/ctl.sock
NOTIFY=$WORK/notify.sock
LOG=$WORK/notify.log
echo 'return { rules = { { name = "a", proto = "udp", dport = 6000, verdict = "accept" } } }' >"$RULES"

# One line per datagram (its newlines as ";"); after READY=1 also whether
# queue 0 was bound then. Ends on STOPPING=1 or after 60 s.
cat >"$WORK/listen.py" <<'PY'
import os, socket, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)  # as systemd's: any service user may notify
s.settimeout(1.0)
end = time.monotonic() + 60
with open(log, "w") as out:
    while time.monotonic() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        line = msg.strip().replace("\n", ";")
        if "READY=1" in msg:
            with open("/proc/net/netfilter/nfnetlink_queue") as q:
                bound = any(l.split()[0] == "0" for l in q if l.strip())
            line += " bound=%d" % bound
        print(line, file=out, flush=True)
        if "STOPPING=1" in msg:
            break
PY
ip netns exec "$NS" python3 "$WORK/listen.py" "$NOTIFY" "$LOG" &
LISTENER=$!
PIDS+=("$LISTENER")
for _ in $(seq 100); do
	[ -S "$NOTIFY" ] && break
	sleep 0.05
done
[ -S "$NOTIFY" ] || fail "the listener did not make $NOTIFY"

# wait_lines N: waits up to 5 s for the log to have N lines.
wait_lines() {
	for _ in $(seq 100); do
		[ "$(wc -l <"$LOG")" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "after 5 s, $(wc -l <"$LOG") notifications, want $1: $(cat "$LOG")"
}

add_queue_rule ipv4 udp 6000 0
export NOTIFY_SOCKET=$NOTIFY
VERDICTD=$WORK/as-unit.sh start_verdictd notify --queue 0 --rules "$RULES" --control "$SOCK"
unset NOTIFY_SOCKET
PID=$VD_PID
grep -q '^Uid:.*65534' "/proc/$PID/status" || fail "verdictd does not run as 65534: $(grep ^Uid: "/proc/$PID/status")"
wait_lines 1
ns "$VERDICTCTL" --socket "$SOCK" reload >/dev/null || fail "reload of a good file failed"
wait_lines 3
echo 'return { rules = { { name = "a", dprt = 6000 } } }' >"$RULES"
status=0
ns "$VERDICTCTL" --socket "$SOCK" reload >/dev/null 2>&1 || status=$?
expect_eq "exit status of a refused reload" "$status" 1
wait_lines 5
line=$(udpgen --dst 127.0.0.1 --port 6000 --count 50 --inflight 8)
expect_eq "accepted after the refused reload ($line)" "$(kv received "$line")" 50
stop_verdictd "$PID" notify
wait_lines 6
wait "$LISTENER" || fail "the listener failed"

want="READY=1;STATUS=serving 1 queue and 0 log groups, rules $RULES bound=1
RELOADING=1;STATUS=reloading the rules
READY=1;STATUS=ok: reloaded $RULES (generation 2) bound=1
RELOADING=1;STATUS=reloading the rules
READY=1;STATUS=error: $RULES: rule 1 \"a\": key \"dprt\": unknown key (did you mean \"dport\"?) (the old rules stay) bound=1
STOPPING=1;STATUS=stopping"
got=$(cat "$LOG")
[ "$got" = "$want" ] || fail "notifications:
$got
want:
$want"
pass "READY after the bind, RELOADING/READY around a good and a refused reload, STOPPING at exit"
