import os,sys,time
pid=sys.argv[1]; dur=float(sys.argv[2]) if len(sys.argv)>2 else 10
def snap():
    out={}
    for t in os.listdir(f'/proc/{pid}/task'):
        try:
            s=open(f'/proc/{pid}/task/{t}/stat').read()
            comm=s[s.index('(')+1:s.rindex(')')]
            f=s[s.rindex(')')+2:].split()
            sch=open(f'/proc/{pid}/task/{t}/schedstat').read().split()
            st=open(f'/proc/{pid}/task/{t}/status').read()
            vol=int([l for l in st.splitlines() if l.startswith('voluntary_ctxt')][0].split()[1])
            nvol=int([l for l in st.splitlines() if l.startswith('nonvoluntary_ctxt')][0].split()[1])
            out[t]=(comm,int(f[11]),int(f[12]),int(sch[1]),vol,nvol)
        except Exception: pass
    return out
a=snap(); time.sleep(dur); b=snap()
hz=os.sysconf('SC_CLK_TCK')
rows=[]
for t,v in b.items():
    if t not in a: continue
    u=a[t]; du=(v[1]-u[1])/hz/dur*100; ds=(v[2]-u[2])/hz/dur*100; rq=(v[3]-u[3])/1e9/dur*100
    rows.append((du+ds,t,v[0],du,ds,rq,(v[4]-u[4])/dur,(v[5]-u[5])/dur))
rows.sort(reverse=True)
print(f"{'tid':>8} {'comm':16} {'usr%':>6} {'sys%':>6} {'rq%':>6} {'vcs/s':>8} {'ivcs/s':>8}")
for r in rows:
    if r[0]<0.5 and r[6]<5: continue
    print(f"{r[1]:>8} {r[2]:16} {r[3]:6.1f} {r[4]:6.1f} {r[5]:6.1f} {r[6]:8.0f} {r[7]:8.0f}")
