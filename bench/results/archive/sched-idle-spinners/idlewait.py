import re,sys,bisect
rows=[]
for l in open(sys.argv[1]):
    m=re.match(r'\s*([\d.]+)\s+\[(\d+)\]\s+(.+?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$',l)
    if not m: continue
    t=float(m.group(1))*1000; rows.append((t,int(m.group(2)),m.group(3),float(m.group(4)),float(m.group(5)),float(m.group(6))))
# per cpu: intervals of idle
idle={0:[],1:[]}
for t,cpu,task,w,s,r in rows:
    if task.startswith('<idle>'): idle[cpu].append((t-r,t))
for c in idle: idle[c].sort()
def idle_frac(c,a,b):
    tot=0
    for x,y in idle[c]:
        if y<a: continue
        if x>b: break
        tot+=max(0,min(y,b)-max(x,a))
    return tot/(b-a) if b>a else 0
for thr in (0.2,1.0):
    n=0;other=0;frac=0
    for t,cpu,task,w,s,r in rows:
        if task.startswith('node') and s>thr:
            n+=1; a=t-r-s; b=t-r
            f=idle_frac(1-cpu,a,b); frac+=f
            if f>0.5: other+=1
    print(f'node waits > {thr} ms: {n}; other vCPU idle more than half the wait: {other}; mean idle share of the wait on the other vCPU {frac/max(n,1):.2f}')
