#!/usr/bin/env bash
# deps.sh - install what verdictd needs to build, test and run, from Debian's
# packages. Idempotent: installs only what is missing, and runs apt-get update
# only when something is.
set -euo pipefail

PACKAGES=(
	build-essential cmake pkg-config
	libnetfilter-queue-dev libmnl-dev liburcu-dev liblua5.4-dev libcap-dev libcmocka-dev
	libnetfilter-log-dev libpcap-dev libsystemd-dev libseccomp-dev
	clang-14 libclang-rt-14-dev
	iptables nftables iproute2 procps libcap2-bin tcpdump tcpreplay gnuplot-nox ulogd2 ulogd2-json
	iperf3
	python3 util-linux scdoc
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root (sudo $0)" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# ulogd2 is here only for the benchmark's comparison: keep its package from
# starting a system-wide logging daemon (policy-rc.d 101 = "do not start").
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod +x "$policy"
	own_policy=1
fi
trap '[ "$own_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
