/**
 * Goal: a venue simulator started by the stack (scripts/stack.ts) does not outlive the process
 * that started it, however that process ends: a crashed or SIGKILLed engine leaves no simulator
 * holding its ports for the next start. And it runs in a process group of its own, so a Ctrl-C
 * at the terminal (a signal to the foreground group) reaches the engine only, which stops first.
 * Method: a real parent process (venue-parent.fixture.ts) starts a real simulator; the parent is
 * SIGKILLed; the simulator's process must be gone (or a zombie, reaped by nobody here). No timing
 * asserted: the wait is bounded only so that a failure ends.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../workers/test-stack.fixture.ts';
import { accepts, processGroup, running } from './process-state.fixture.ts';

const PARENT = fileURLToPath(new URL('./venue-parent.fixture.ts', import.meta.url));

// Process states are read from /proc.
describe.skipIf(process.platform !== 'linux')('venue simulator lifeline', () => {
  it('a simulator started by the stack stops when its parent is SIGKILLed', async () => {
    const parent = spawn(process.execPath, [PARENT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    parent.stdout!.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    let pid = 0;
    try {
      let port: number;
      [pid, port] = await waitFor('the parent to start its venue', async () => {
        const m = /venue (\d+) (\d+)/.exec(out);
        return m === null ? undefined : [Number(m[1]), Number(m[2])];
      });
      // While the parent lives, so does the simulator, and it listens.
      expect(running(pid)).toBe(true);
      expect(await accepts(port)).toBe(true);
      // In a process group of its own: a Ctrl-C to the parent's group does not reach it.
      expect(processGroup(pid)).toBe(pid);
      expect(processGroup(pid)).not.toBe(processGroup(parent.pid!));
      const exited = new Promise((r) => parent.once('exit', r));
      parent.kill('SIGKILL');
      await exited;
      await waitFor('the orphaned simulator to stop', async () => !running(pid));
      expect(await accepts(port)).toBe(false);
    } finally {
      if (pid !== 0 && running(pid)) process.kill(pid, 'SIGKILL');
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    }
  }, 60_000);
});
