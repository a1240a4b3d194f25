#!/bin/bash
# usage: run.sh RATE DUR [threading]  -> per-thread table + ws-load result
RATE=${1:-1000}; DUR=${2:-15}; THR=${3:-dedicated}
cd /work/main
CFG=$(EXTRA="{\"threading\":\"$THR\"}" npx node bench/tmp-cfg.ts)
mkfifo /tmp/probe/in.$$ 
(BENCH_ENGINE_CONFIG="$CFG" npx node bench/ws-target-host.ts engine < /tmp/probe/in.$$ > /tmp/probe/out.$$ 2>/tmp/probe/err.$$ &)
exec 3>/tmp/probe/in.$$
for i in $(seq 1 120); do grep -q BENCH_TARGET_READY /tmp/probe/out.$$ && break; sleep 0.5; done
READY=$(grep BENCH_TARGET_READY /tmp/probe/out.$$ | sed 's/BENCH_TARGET_READY //')
PORT=$(echo "$READY" | python3 -c 'import json,sys;print(json.load(sys.stdin)["port"])')
PID=$(echo "$READY" | python3 -c 'import json,sys;print(json.load(sys.stdin)["pid"])')
echo "port $PORT pid $PID"
/tmp/ws-load --port $PORT --tokens demo-key-trader1,demo-key-trader2 --connections 100 --rate $RATE --duration $((DUR+4)) --warmup 2 --drain 3 --prefix P$$- > /tmp/probe/load.$$ &
LP=$!
sleep 3
for t in $(ls /proc/$PID/task); do echo "$t $(cat /proc/$PID/task/$t/wchan) $(cat /proc/$PID/task/$t/comm)"; done | tr '\n' ';'; echo
sleep 1
D0=$(cat /sys/block/vda/stat)
python3 /tmp/probe/cpustat.py $DUR & CS=$!
python3 /tmp/thr.py $PID $DUR
wait $CS
D1=$(cat /sys/block/vda/stat)
python3 -c "a='$D0'.split();b='$D1'.split();d=[int(y)-int(x) for x,y in zip(a,b)];print('DISK per s: writes %.0f sectors %.0f flushes %.0f write_ms %.0f flush_ms %.0f'%(d[4]/$DUR,d[6]/$DUR,d[14]/$DUR,d[7]/$DUR,d[15]/$DUR))"
[ -n "$STRACE" ] && timeout 5 strace -c -f -p $PID -o /tmp/probe/strace.txt
[ -n "$PERF" ] && perf record -F 2000 -g -p $PID -o /tmp/probe/perf.data -- sleep 5 2>/dev/null >/dev/null
[ -n "$SCHED" ] && perf sched record -a -o /tmp/probe/sched.data -- sleep 4 2>/dev/null >/dev/null
wait $LP
grep RESULT /tmp/probe/load.$$ | sed 's/RESULT //' | python3 -c 'import json,sys;d=json.load(sys.stdin);print(d["acked"],d["latencyUs"])' 
exec 3>&-
sleep 3
rm -f /tmp/probe/in.$$
