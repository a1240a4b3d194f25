for i in 1 2; do for v in none spin; do
  echo "== $v trial $i"
  if [ $v = spin ]; then chrt -i 0 /tmp/probe/spin & S1=$!; chrt -i 0 /tmp/probe/spin & S2=$!; fi
  ./run.sh 1000 15 dedicated 2>&1 | grep -E "DISK|p50|steal|^ +[0-9]+ node +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]{4}"
  if [ $v = spin ]; then kill $S1 $S2; wait $S1 $S2 2>/dev/null; fi
done; done
