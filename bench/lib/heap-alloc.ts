/**
 * JS heap bytes allocated over a window of work, from V8's GC statistics: the growth of the used
 * heap between the GCs that ran in the window (GCProfiler, one instance per window: started and
 * stopped once, never restarted, which on Node 22 would keep its buffer growing).
 */
import { GCProfiler, getHeapStatistics, type GCProfilerResult } from 'node:v8';

/** Bytes allocated on the JS heap between two readings of usedHeapSize, given the GCs between. */
export function allocatedBetween(result: GCProfilerResult, usedAtStart: number, usedAtEnd: number): number {
  let allocated = 0;
  let used = usedAtStart;
  for (const gc of result.statistics) {
    allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - used);
    used = gc.afterGC.heapStatistics.usedHeapSize;
  }
  return allocated + Math.max(0, usedAtEnd - used);
}

/** One measured window: open(), the work, then close() gives the bytes allocated in between. */
export class AllocationWindow {
  private readonly profiler = new GCProfiler();
  private usedAtOpen = 0;

  open(): void {
    this.profiler.start();
    this.usedAtOpen = getHeapStatistics().used_heap_size;
  }

  close(): number {
    const usedAtClose = getHeapStatistics().used_heap_size;
    return allocatedBetween(this.profiler.stop(), this.usedAtOpen, usedAtClose);
  }
}
