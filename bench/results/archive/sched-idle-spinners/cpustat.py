import time,sys
def r():
    f=open('/proc/stat').readline().split()[1:]
    return list(map(int,f))
dur=float(sys.argv[1]);a=r();time.sleep(dur);b=r()
d=[y-x for x,y in zip(a,b)];tot=sum(d[:8])
names=['user','nice','system','idle','iowait','irq','softirq','steal']
print(' '.join('%s %.1f%%'%(n,100*2*v/tot) for n,v in zip(names,d[:8])),'(of 200%)')
