/**
 * For engine tests: waits until a condition holds, polling every millisecond, or throws naming
 * it. limitMs only guards against a hang (worker start-up on a loaded machine takes seconds).
 */
export async function until(condition: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
