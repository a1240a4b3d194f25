#!/bin/bash
# usage: ab.sh RATE DUR THREADING PAIRS  -> alternating base/new (ABBA), per trial: engine usr/sys %, vcs/s, p50/p90/p99
RATE=${1:-1000}; DUR=${2:-15}; THR=${3:-dedicated}; PAIRS=${4:-4}
trial() { # dir label
  local DIR=$1 L=$2
  cd $DIR
  local CFG=$(EXTRA="{\"threading\":\"$THR\"}" npx node bench/tmp-cfg.ts 2>/dev/null)
  local F=/tmp/probe/ab.$$
  rm -f $F.in; mkfifo $F.in
  (BENCH_ENGINE_CONFIG="$CFG" npx node bench/ws-target-host.ts engine < $F.in > $F.out 2>$F.err &)
  exec 3>$F.in
  for i in $(seq 1 120); do grep -q BENCH_TARGET_READY $F.out && break; sleep 0.5; done
  local READY=$(grep BENCH_TARGET_READY $F.out | sed 's/BENCH_TARGET_READY //')
  local PORT=$(echo "$READY" | python3 -c 'import json,sys;print(json.load(sys.stdin)["port"])')
  local PID=$(echo "$READY" | python3 -c 'import json,sys;print(json.load(sys.stdin)["pid"])')
  /tmp/ws-load --port $PORT --tokens demo-key-trader1,demo-key-trader2 --connections 100 --rate $RATE --duration $((DUR+4)) --warmup 2 --drain 3 --prefix P$$-$L- > $F.load &
  local LP=$!
  sleep 4
  curl -s localhost:$PORT/health > $F.h0
  perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_futex,syscalls:sys_enter_write,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_fdatasync,context-switches -p $PID -o $F.perf -- sleep $DUR &
  local PS=$!
  python3 /tmp/thr.py $PID $DUR > $F.thr
  wait $PS
  curl -s localhost:$PORT/health > $F.h1
  wait $LP
  local LAT=$(grep RESULT $F.load | sed 's/RESULT //' | python3 -c 'import json,sys;d=json.load(sys.stdin);l=d["latencyUs"];print("acked %d p50 %.0f p90 %.0f p99 %.0f p999 %.0f max %.0f"%(d["acked"],l["p50"],l["p90"],l["p99"],l["p999"],l["max"]))')
  local CPU=$(python3 -c "
import sys
u=s=v=0
for line in open('$F.thr').read().splitlines()[1:]:
    f=line.split(); u+=float(f[2]); s+=float(f[3]); v+=float(f[5])
n=$RATE*$DUR
per={}
for line in open('$F.perf'):
    f=line.strip().split(',')
    if len(f)>3 and f[0].isdigit(): per[f[2].split(':')[-1].replace('sys_enter_','')]=int(f[0])/n
import json
h0=json.load(open('$F.h0'))['stages']; h1=json.load(open('$F.h1'))['stages']
pk=' '.join('%s %.2f'%(k[:4],(h1[k]['counters']['PARKS']-h0[k]['counters']['PARKS'])/n) for k in h1)
print('usr %.1f sys %.1f cpu %.1f vcs/s %.0f'%(u,s,u+s,v), 'parks/order:', pk, 'per-order:', ' '.join('%s %.2f'%(k,x) for k,x in per.items()))")
  echo "$L $CPU $LAT"
  exec 3>&-
  sleep 4
  rm -f $F.in
}
for p in $(seq 1 $PAIRS); do
  if [ $((p % 2)) -eq 1 ]; then trial /tmp/wt-base base; trial /work/main new; else trial /work/main new; trial /tmp/wt-base base; fi
done
