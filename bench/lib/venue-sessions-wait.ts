/**
 * Waits until the engine's fix stage reports every venue FIX session up (GET /health,
 * stages.fix.counters.SESSIONS_UP). The SOR routes only to venues whose session is up, so a
 * benchmark that started measuring earlier would measure a degraded engine: this throws instead
 * of giving up silently.
 */
import { fetchHealth } from './engine-health.ts';

export async function waitForVenueSessions(httpPort: number, venues: number, timeoutMs: number = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: number | undefined;
  for (;;) {
    const up = (await fetchHealth(httpPort)).stages?.fix?.counters?.SESSIONS_UP;
    seen = typeof up === 'number' ? up : undefined;
    if (seen === venues) return;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`engine: ${venues} venue sessions not up within ${timeoutMs / 1000} s (SESSIONS_UP ${seen ?? 'absent'})`);
}
