# Sourced by the demo and the benchmarks: namespaces that clean themselves up, and the
# measurements (iperf3 TCP, ping RTT) they all take the same way.
#
# Everything runs in namespaces made here (names start with $LAB); the EXIT trap stops the
# processes started here, by PID, and deletes those namespaces, also on failure.

LAB="${LAB:-vslab$$}"
LAB_NAMESPACES=()
LAB_PIDS=()
LAB_WORK=$(mktemp -d)

lab_cleanup() {
  local pid ns
  for pid in "${LAB_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${LAB_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${LAB_NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$LAB_WORK"
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM

# lab_ns NAME: creates namespace $LAB-NAME with loopback up.
lab_ns() {
  ip netns add "$LAB-$1"
  LAB_NAMESPACES+=("$LAB-$1")
  ip -n "$LAB-$1" link set lo up
}

# lab_vswitchd NS CONFIG_FILE: starts bin/vswitchd in namespace NS and waits for "vswitchd ready".
lab_vswitchd() {
  local ns=$1 config=$2 out="$LAB_WORK/$1.out" log="$LAB_WORK/$1.log"
  ip netns exec "$ns" "$VSWITCH_ROOT/bin/vswitchd" --config "$config" \
    --control-socket "$LAB_WORK/$1.sock" >"$out" 2>"$log" &
  LAB_PIDS+=($!)
  local _
  for _ in $(seq 300); do grep -q "vswitchd ready" "$out" && return 0; sleep 0.1; done
  echo "vswitchd did not start in $ns:" >&2
  cat "$log" >&2
  return 1
}

# lab_plug FROM_NS DEV TO_NS CIDR: moves a device into a container namespace and configures it.
lab_plug() {
  ip -n "$1" link set "$2" netns "$3"
  ip -n "$3" addr add "$4" dev "$2"
  ip -n "$3" link set "$2" up
}

# lab_tcp CLIENT_NS SERVER_NS SERVER_IP SECONDS STREAMS: prints Gbit/s received.
lab_tcp() {
  local client=$1 server=$2 ip=$3 seconds=$4 streams=$5 json tries=0
  ip netns exec "$client" ping -c 3 -i 0.2 -W 2 -q "$ip" >/dev/null || true   # learn, resolve ARP
  ip netns exec "$server" timeout $((seconds + 30)) iperf3 -s -1 -B "$ip" >/dev/null 2>&1 &
  LAB_PIDS+=($!)
  local gbps
  # Retries while the server is not listening yet; iperf3 -J reports that as JSON "error".
  until json=$(ip netns exec "$client" timeout $((seconds + 20)) iperf3 -c "$ip" -t "$seconds" -P "$streams" -J 2>/dev/null) \
      && gbps=$(echo "$json" | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null); do
    tries=$((tries + 1))
    [ $tries -lt 50 ] || { echo "iperf3 failed against $ip" >&2; echo 0; return 0; }
    sleep 0.2
  done
  echo "$gbps"
}

# lab_ping CLIENT_NS IP: prints "avg max p99" in ms over 200 pings 10 ms apart.
lab_ping() {
  ip netns exec "$1" ping -c 200 -i 0.01 -W 2 "$2" | python3 -c '
import re, sys
rtts = sorted(float(m.group(1)) for m in re.finditer(r"time=([0-9.]+) ms", sys.stdin.read()))
if not rtts:
    print("n/a n/a n/a")
else:
    p99 = rtts[min(len(rtts) - 1, int(len(rtts) * 0.99))]
    print("%.3f %.3f %.3f" % (sum(rtts) / len(rtts), rtts[-1], p99))'
}

# lab_median V...: the median of the values.
lab_median() {
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# lab_ratio A B: A/B with two decimals.
lab_ratio() {
  python3 -c "import sys; a, b = sys.argv[1], sys.argv[2]
try:
    print('%.2f' % (float(a) / float(b)))
except (ValueError, ZeroDivisionError):
    print('n/a')" "$1" "$2"
}
