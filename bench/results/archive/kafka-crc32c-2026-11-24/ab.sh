#!/bin/bash
cd /work/main
for i in 1 2 3; do for v in p3 p4; do
  rm -rf node_modules/kafkajs && cp -a /tmp/kafkajs.$v node_modules/kafkajs
  echo "== $i $v"
  node_modules/.bin/node bench/kafka-drain.ts 2>&1 | grep -v '^{' | tail -2
done; done
rm -rf node_modules/kafkajs && cp -a /tmp/kafkajs.p4 node_modules/kafkajs
echo done
