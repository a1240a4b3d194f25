/**
 * True when the module at moduleUrl is the script Node was started with (`node bench/x.bench.ts`),
 * false when it is imported (by a smoke test) or loaded as a worker thread. Node 22 has no
 * import.meta.main, so compare real paths.
 */

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';

export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!isMainThread || script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
