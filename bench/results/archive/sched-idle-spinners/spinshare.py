"""For every engine thread's wait for a core longer than a threshold (perf sched timehist text,
argv[1]), the share of that wait during which the SCHED_IDLE spinner ran on the same vCPU and on
the other one. Usage: perf sched timehist -i sched.data > th.txt; python3 spinshare.py th.txt"""
import re, sys
rows = []
for l in open(sys.argv[1]):
    m = re.match(r'\s*([\d.]+)\s+\[(\d+)\]\s+(.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$', l)
    if m: rows.append((float(m.group(1)) * 1000, int(m.group(2)), m.group(3), float(m.group(4)), float(m.group(5)), float(m.group(6))))
spin = {0: [], 1: []}
for t, cpu, task, w, s, r in rows:
    if task.startswith('spin'): spin[cpu].append((t - r, t))
def share(c, a, b): return sum(max(0, min(y, b) - max(x, a)) for x, y in spin[c]) / (b - a)
for thr in (0.2, 1.0):
    same = other = 0; n = 0
    for t, cpu, task, w, s, r in rows:
        if task.startswith('node') and s > thr:
            n += 1; a = t - r - s; b = t - r; same += share(cpu, a, b); other += share(1 - cpu, a, b)
    print(f'waits > {thr} ms: {n}; mean share of the wait the spinner ran on the same vCPU {same / n:.2f}, on the other {other / n:.2f}')
