#!/bin/bash
# usage: measure.sh DIR LABEL
d=$1; l=$2
rm -rf /tmp/wk/j-$l
cd $d && (JOURNAL_DIR=/tmp/wk/j-$l nohup npx node scripts/demo.ts > /tmp/wk/demo-$l.log 2>&1 &)
for i in $(seq 1 60); do curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:8080/ready 2>/dev/null | grep -q 200 && break; sleep 1; done
sleep 4
cd /tmp/wk && timeout 120 node wakes.mjs 3000 500 $(pgrep -f "^node scripts/demo.ts" | head -1) > /tmp/wk/res-$l.txt 2>&1
kill -INT $(pgrep -f "node scripts/demo.ts"); sleep 5
