"""The experiment of eevdf-slice/ (not part of the engine): every 50 ms, give each thread of every
process whose command line contains PATTERN a custom EEVDF slice of SLICE_NS (sched_setattr with
sched_runtime on a SCHED_OTHER thread, Linux >= 6.12; unprivileged for one's own threads), keeping
its nice value. Run beside bench:ws:

    python3 slicer.py ws-target-host.ts 100000 &   # then npx node bench/ws.bench.ts ...

x86_64 syscall numbers (314 sched_setattr, 315 sched_getattr); struct sched_attr, 56 bytes.
"""
import ctypes, os, sys, struct, time
libc = ctypes.CDLL(None, use_errno=True)
pat = sys.argv[1].encode(); slice_ns = int(sys.argv[2])
done = set()
while True:
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try: cl = open(f'/proc/{p}/cmdline','rb').read()
        except OSError: continue
        if pat not in cl or b'slicer' in cl: continue
        try: tids = os.listdir(f'/proc/{p}/task')
        except OSError: continue
        for t in tids:
            tid = int(t)
            if tid in done: continue
            buf = ctypes.create_string_buffer(56)
            if libc.syscall(315, tid, buf, 56, 0) != 0: continue
            f = struct.unpack('IIQiIQQQII', buf.raw)
            if f[1] != 0: done.add(tid); continue
            nb = ctypes.create_string_buffer(struct.pack('IIQiIQQQII', 56, 0, 0, f[3], 0, slice_ns, 0, 0, 0, 0), 56)
            if libc.syscall(314, tid, nb, 0) == 0: done.add(tid)
    time.sleep(0.05)
