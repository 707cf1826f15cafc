#!/bin/bash
# In-VM agent of `deno task interop` (runs as /host/agent.sh under rsplib-vm-init).
# Turns on SCTP over UDP (RFC 6951) so the host's TypeScript SCTP can talk to the
# kernel's, then runs the commands the host drops into /host/cmd/ in name order:
# /host/cmd/N.sh -> /host/cmd/N.out (stdout+stderr) and /host/cmd/N.rc (exit status).
# Long-running RSPLIB programs are started by those commands in the background.
# Stops when /host/cmd/stop appears (or after 30 minutes).
exec > /host/agent.log 2>&1
set -x
sysctl -w net.sctp.udp_port=9899 net.sctp.encap_port=9899
# RSPLIB's registrar stays healthy across many peers coming and going (see the tool's README).
sysctl -w net.sctp.sndbuf_policy=1 net.sctp.max_init_retransmits=2
# Dead peers are noticed within seconds, not minutes.
sysctl -w net.sctp.rto_initial=1000 net.sctp.rto_min=500 net.sctp.rto_max=2000 \
  net.sctp.path_max_retrans=3 net.sctp.association_max_retrans=3 net.sctp.hb_interval=2000
mkdir -p /host/cmd /tmp/rsp
tcpdump -i any -s 0 -U -w /tmp/vm.pcap > /tmp/tcpdump.log 2>&1 & TD=$!
sleep 1
touch /host/ready
set +x
end=$(( $(date +%s) + 1800 ))
while [ ! -f /host/cmd/stop ] && [ "$(date +%s)" -lt "$end" ]; do
  ran=0
  for f in /host/cmd/*.sh; do
    [ -e "$f" ] || continue
    n="${f%.sh}"
    [ -e "$n.rc" ] && continue
    echo "--- $(date +%T) $(basename "$f")"
    bash "$f" > "$n.out" 2>&1
    echo $? > "$n.rc.tmp" && mv "$n.rc.tmp" "$n.rc"
    ran=1
  done
  [ $ran = 1 ] || sleep 0.2
done
pkill -INT -f rspserver; pkill -INT -f rspregistrar; sleep 1
kill -INT $TD; wait $TD
cp /tmp/vm.pcap /host/vm.pcap
cp /tmp/rsp/*.log /host/ 2>/dev/null
echo "agent done"
