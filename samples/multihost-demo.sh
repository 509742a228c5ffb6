#!/usr/bin/env bash
# The multi-host demo (docs/demo-multihost.md): three server hosts and a client host in network
# namespaces on one bridge, TLS on the control connections, membership from dnsmasq; the client streams,
# its server's link is rate-limited (tc tbf) and its policy moves it; an operator drains the next server
# over JMX; every byte is checked. Needs root, ip netns, tc, dnsmasq, a JDK 17+, and the build:
#   ./mvnw -q install -DskipTests && sudo bash samples/multihost-demo.sh
# Exits 0 only if every byte was right and the client moved twice (once by its policy, once by the drain).
# JMX runs without authentication or TLS, reachable only inside the demo's private namespaces.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NET=10.77.0
DOMAIN=mtcp.demo
PORT=9001 CONTROL=9101 JMX=9901
NS_SW=mtcp-sw NS_CL=mtcp-cl
HOSTS=(1 2 3)

die() { echo "multihost-demo: $*" >&2; exit 1; }
say() { printf '==> %s\n' "$*"; }

[ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces)"
command -v ip >/dev/null && command -v tc >/dev/null || die "needs ip and tc (iproute2)"
DNSMASQ="$(command -v dnsmasq || echo /usr/sbin/dnsmasq)"
[ -x "$DNSMASQ" ] || die "needs dnsmasq (apt-get install -y dnsmasq)"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
CLASSES="$ROOT/samples/target/classes"
DEPS="$ROOT/samples/target/runtime-classpath.txt"
[ -f "$DEPS" ] && [ -f "$CLASSES/org/mtcp/samples/multihost/DemoServer.class" ] \
  || die "build first: ./mvnw -q install -DskipTests (writes $DEPS)"
CP="$CLASSES:$(cat "$DEPS")"
for ns in $NS_SW $NS_CL mtcp-h1 mtcp-h2 mtcp-h3; do
  ! ip netns list | grep -qw "$ns" || die "namespace $ns exists: another run, or a killed one (ip netns del $ns)"
done

TMP="$(mktemp -d /tmp/mtcp-multihost.XXXXXX)"
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in $NS_CL mtcp-h1 mtcp-h2 mtcp-h3 $NS_SW; do ip netns del "$ns" 2>/dev/null || true; done
  if [ "$rc" != 0 ] && [ -d "$TMP" ]; then
    shopt -s nullglob
    for f in "$TMP"/*.log; do echo "--- $(basename "$f") (last lines)"; tail -n 15 "$f"; done >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# the whole run is bounded: a watchdog ends it after 120 s
( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep 120 </dev/null >/dev/null 2>&1 & s=$!; wait $s
  echo "multihost-demo: timed out after 120 s" >&2; kill -TERM $$ ) & PIDS+=($!)

JOPTS=(-XX:+UseSerialGC -Xmx128m -XX:TieredStopAtLevel=1 -Xshare:auto)

say "network: bridge in $NS_SW; hosts mtcp-h1..h3 = $NET.1..3, client + DNS mtcp-cl = $NET.100"
ip netns add $NS_SW
ip -n $NS_SW link add br0 type bridge
ip -n $NS_SW link set br0 up
attach() { # namespace, address, short name
  ip netns add "$1"
  ip link add "mtd-$3" type veth peer name "mtd-$3-sw"
  ip link set "mtd-$3" netns "$1" name eth0
  ip link set "mtd-$3-sw" netns $NS_SW
  ip -n $NS_SW link set "mtd-$3-sw" master br0 up
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" link set lo up
}
for i in "${HOSTS[@]}"; do attach "mtcp-h$i" "$NET.$i" "h$i"; done
attach $NS_CL "$NET.100" cl

say "DNS: dnsmasq on $NET.100:53, SRV _mtcp._tcp.$DOMAIN and _mtcp-control._tcp.$DOMAIN for s1..s3"
RECORDS=()
for i in "${HOSTS[@]}"; do
  RECORDS+=(--host-record="s$i.$DOMAIN,$NET.$i"
            --srv-host="_mtcp._tcp.$DOMAIN,s$i.$DOMAIN,$PORT,$i"
            --srv-host="_mtcp-control._tcp.$DOMAIN,s$i.$DOMAIN,$CONTROL,$i")
done
ip netns exec $NS_CL "$DNSMASQ" --no-daemon --conf-file=/dev/null --port=53 --listen-address=$NET.100 \
  --bind-interfaces --no-resolv --no-hosts --pid-file= --user=root --local=/$DOMAIN/ "${RECORDS[@]}" \
  >"$TMP/dnsmasq.log" 2>&1 & PIDS+=($!)

say "TLS: a development CA and node certificates with IP SANs (DevCertificates)"
"$JAVA" -cp "$CP" org.mtcp.server.DevCertificates --out "$TMP/certs" \
  s1=ip:$NET.1 s2=ip:$NET.2 s3=ip:$NET.3 >"$TMP/certs.log" 2>&1 || die "DevCertificates failed: $(cat "$TMP/certs.log")"

for i in "${HOSTS[@]}"; do
  ip netns exec "mtcp-h$i" "$JAVA" "${JOPTS[@]}" -Dmtcp.sendWindow=65536 \
    -Dcom.sun.management.jmxremote.port=$JMX -Dcom.sun.management.jmxremote.rmi.port=$JMX \
    -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false \
    -Djava.rmi.server.hostname=$NET.$i \
    -cp "$CP" org.mtcp.samples.multihost.DemoServer "s$i" "$NET.$i" $PORT $CONTROL "$TMP/certs" "$NET.100:53" $DOMAIN \
    >"$TMP/s$i.log" 2>&1 & PIDS+=($!)
done
for i in "${HOSTS[@]}"; do
  for _ in $(seq 200); do grep -q " ready on " "$TMP/s$i.log" && break; sleep 0.1; done
  grep -q " ready on " "$TMP/s$i.log" || die "server s$i did not start"
  say "$(grep -m1 ' ready on ' "$TMP/s$i.log" | cut -d' ' -f2-)"
done

say "client: streaming from s1 ($NET.1:$PORT), checking every byte"
STATUS="$TMP/client.status" STOP="$TMP/client.stop"
ip netns exec $NS_CL "$JAVA" "${JOPTS[@]}" -cp "$CP" org.mtcp.samples.multihost.DemoClient \
  "$NET.1:$PORT" "$STATUS" "$STOP" 90 > >(tee "$TMP/client.log" | sed -u 's/^/   client /') 2>&1 &
CLIENT=$!; PIDS+=($CLIENT)

current() { [ -f "$STATUS" ] && cut -d' ' -f1 "$STATUS" || echo -; }
wait_for() { # predicate on the current server, seconds
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do eval "$1" && return 0; sleep 0.2; done
  return 1
}
sleep 4
SLOW="$(current)"
[ "$SLOW" != - ] || die "the client reports no server"
say "tc: rate-limiting $SLOW's link: tc qdisc add dev eth0 root tbf rate 1mbit burst 32kbit latency 400ms (in mtcp-h${SLOW#s})"
ip netns exec "mtcp-h${SLOW#s}" tc qdisc add dev eth0 root tbf rate 1mbit burst 32kbit latency 400ms
POLICY_OK=0
if wait_for '[ "$(current)" != "$SLOW" ]' 20; then POLICY_OK=1; fi
[ $POLICY_OK = 1 ] || die "the client's policy did not move it off $SLOW within 20 s"
sleep 3
NOW="$(current)"
for i in "${HOSTS[@]}"; do [ "s$i" != "$SLOW" ] && [ "s$i" != "$NOW" ] && TARGET="s$i"; done
say "operator: drain $NOW over JMX ($NET.${NOW#s}:$JMX) to $TARGET ($NET.${TARGET#s}:$PORT)"
ip netns exec $NS_CL "$JAVA" "${JOPTS[@]}" -cp "$CP" org.mtcp.samples.multihost.DemoOperator \
  "$NET.${NOW#s}:$JMX" "$NET.${TARGET#s}:$PORT" 2>&1 | sed 's/^/   /' || die "the operator failed"
DRAIN_OK=0
if wait_for '[ "$(current)" = "$TARGET" ]' 15; then DRAIN_OK=1; fi
sleep 3
touch "$STOP"
CLIENT_RC=0
wait "$CLIENT" || CLIENT_RC=$?
say "servers' migration lines:"
for i in "${HOSTS[@]}"; do grep -h " migration" "$TMP/s$i.log" | sed 's/^/   /' || true; done

MIGRATIONS="$(grep -c 'migration #' "$TMP/client.log" || true)"
if [ "$CLIENT_RC" = 0 ] && [ $POLICY_OK = 1 ] && [ $DRAIN_OK = 1 ] && [ "${MIGRATIONS:-0}" -ge 2 ]; then
  say "PASS: every byte verified, $MIGRATIONS migrations ($SLOW -> $NOW by the client's policy, $NOW -> $TARGET by the drain)"
else
  die "FAIL: client exit $CLIENT_RC, policy move $POLICY_OK, drain move $DRAIN_OK, migrations ${MIGRATIONS:-0}"
fi
