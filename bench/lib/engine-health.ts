/**
 * The engine's GET /health document, as the benchmarks read it: each stage's counters by name
 * (workers/ingest-part.ts builds it). /health answers 503 with the same document when the engine
 * is not ok; the counters still count, so the status is not checked here. A read that takes
 * longer than timeoutMs fails (a hung engine never holds a benchmark).
 */
export interface HealthDoc {
  stages?: Record<string, { counters?: Record<string, unknown> }>;
}

export async function fetchHealth(port: number, timeoutMs: number = 2000): Promise<HealthDoc> {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  return (await res.json()) as HealthDoc;
}
