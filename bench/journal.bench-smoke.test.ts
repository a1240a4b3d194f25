// Goal: the journal benchmark cannot rot: with a tiny budget it still builds the corpus, checks
// that both appends build the same frames and that every frame checks (it throws otherwise), and
// times all four cases. No figure is asserted (no timing in tests).
import { describe, expect, it } from 'vitest';
import { QUICK_CONFIG, runJournalBench } from './journal.bench.ts';

describe('bench:journal smoke', () => {
  it('both appends build the same frames, both checks pass them, and all four cases get timed', () => {
    const r = runJournalBench(QUICK_CONFIG);
    expect(r.meanBodyBytes).toBeGreaterThan(64);
    for (const c of [r.append.ours, r.append.baseline, r.check.ours, r.check.baseline]) expect(c.msgsPerS.median).toBeGreaterThan(0);
    expect(Object.keys(r.figures)).toEqual(['journal_append_ns_per_frame', 'journal_check_ns_per_frame']);
    expect(r.figures.journal_append_ns_per_frame.baseline).toBeGreaterThan(0);
  });
});
