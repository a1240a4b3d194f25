/**
 * Goal: runBlockingWithTurns is runBlocking that still lets the thread's event loop run now and
 * then, and stops at the stop word.
 * Method: the agent itself decides when to stop (it sets the stop word once what it waits for has
 * happened), and gives up after a bounded number of duty cycles, so a loop that never turns fails
 * instead of hanging; no assertion on time.
 */
import { describe, expect, it } from 'vitest';
import type { Agent } from './agent.ts';
import { Doorbell } from './doorbell.ts';
import { ParkIdle } from './idle.ts';
import { STOP_REQUESTED, runBlockingWithTurns } from './runner.ts';

/** Works (returns 1) every other cycle, so both the busy and the idle turn checks are exercised. */
class UntilAgent implements Agent {
  readonly stopWord = new Int32Array(new SharedArrayBuffer(4));
  cycles = 0;
  private readonly done: () => boolean;
  private readonly maxCycles: number;

  constructor(done: () => boolean, maxCycles: number) {
    this.done = done;
    this.maxCycles = maxCycles;
  }

  doWork(): number {
    this.cycles++;
    if (this.done() || this.cycles >= this.maxCycles) Atomics.store(this.stopWord, 0, STOP_REQUESTED);
    return this.cycles & 1;
  }
}

const idleFor = (agent: Agent): ParkIdle => new ParkIdle(Doorbell.create(), agent, { spins: 10, maxSleepMs: 1 });

describe('runBlockingWithTurns', () => {
  it('lets timers and immediates queued before the run fire while it runs', async () => {
    let timerFired = false;
    let immediates = 0;
    setTimeout(() => (timerFired = true), 5);
    const again = (): void => {
      if (++immediates < 3) setImmediate(again);
    };
    setImmediate(again);
    const agent = new UntilAgent(() => timerFired && immediates >= 3, 50_000_000);
    await runBlockingWithTurns(agent, idleFor(agent), agent.stopWord, 1);
    expect(timerFired).toBe(true);
    expect(immediates).toBe(3);
  });

  it('resolves at the stop word without another duty cycle', async () => {
    const agent = new UntilAgent(() => false, 1000);
    await runBlockingWithTurns(agent, idleFor(agent), agent.stopWord, 1_000_000);
    expect(agent.cycles).toBe(1000);
  });

  it('does not start a duty cycle when the stop word is already set', async () => {
    const agent = new UntilAgent(() => false, 10);
    Atomics.store(agent.stopWord, 0, STOP_REQUESTED);
    await runBlockingWithTurns(agent, idleFor(agent), agent.stopWord, 1);
    expect(agent.cycles).toBe(0);
  });
});
