#!/bin/bash
# usage: burst.sh DIR LABEL N
d=$1; l=$2; n=${3:-20000}
rm -rf /tmp/wk/j-$l
cd $d && (CONFIG_FILE=/tmp/wk/small.json JOURNAL_DIR=/tmp/wk/j-$l nohup npx node scripts/demo.ts > /tmp/wk/demo-$l.log 2>&1 &)
for i in $(seq 1 60); do curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/ready 2>/dev/null | grep -q 200 && break; sleep 1; done
sleep 4
cd /tmp/wk && timeout 120 node burst.mjs $n > /tmp/wk/burst-$l.txt 2>&1
# the demo keeps running: wedge-trials.sh reads /health, then stops it
