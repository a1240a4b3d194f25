#!/bin/bash
# usage: wedge-trials.sh DIR LABEL TRIALS: per trial a fresh demo on 64 KiB rings, a 5,000-order burst, ring depths 10 s later
d=$1; l=$2; n=$3
for k in $(seq 1 $n); do
  $(dirname $0)/burst.sh $d $l-$k 5000
  sleep 10
  echo "trial $k: $(head -1 /tmp/wk/burst-$l-$k.txt | cut -c1-60)" >> /tmp/wk/wedge-$l.txt
  curl -s http://127.0.0.1:8080/health | python3 -c "
import json,sys; h=json.load(sys.stdin); d=h['ringDepthBytes']; print('  depths 10 s after the burst:', {k:v for k,v in d.items() if v})" >> /tmp/wk/wedge-$l.txt
  kill -INT $(pgrep -f "node scripts/demo.ts"); sleep 5
done
