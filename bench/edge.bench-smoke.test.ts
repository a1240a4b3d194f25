// Goal: the edge benchmark cannot rot: with tiny inputs it still checks that both encoders give
// the same bytes on its whole corpus (it throws otherwise), times both and measures both
// allocations. No figure is asserted (no timing in tests).
import { describe, expect, it } from 'vitest';
import { QUICK_CONFIG, runEdgeBench } from './edge.bench.ts';

describe('bench:edge smoke', () => {
  it('encodes the same bytes both ways, and measures both', () => {
    const r = runEdgeBench(QUICK_CONFIG);
    expect(r.meanFrameBytes).toBeGreaterThan(100);
    expect(r.throughput.ours.msgsPerS.median).toBeGreaterThan(0);
    expect(r.throughput.baseline.msgsPerS.median).toBeGreaterThan(0);
    expect(Number.isFinite(r.heapBytesPerMsg.ours)).toBe(true);
    expect(Object.keys(r.figures)).toEqual(['report_json_msgs_per_s', 'report_json_heap_bytes_per_msg']);
  });
});
