/**
 * Runs a server at a lower scheduling priority: on one host with the engine, docs/TUNING.md
 * advises niceness 10 for Postgres and the Kafka brokers, so they take only the CPU the stages
 * leave. nice(1) (coreutils) execs the program in its own pid, so signals, exit codes and the
 * children it forks (Postgres's backends) are the server's, at its niceness.
 * With `idle`, chrt(1) (util-linux) runs it under Linux's SCHED_IDLE policy, inherited by what it
 * forks as nice is: the server then yields a core to an engine thread woken onto it, and otherwise runs on what
 * normal-policy threads leave (workers/thread-nice.ts does the same for the engine's own sinks
 * thread). It does not keep a woken thread from queueing on the other, busy core: on the 2-vCPU
 * VM here it did (bench/results/archive/sched-idle-spinners/).
 */

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Refuses a niceness increment outside 0..19. */
export function assertNiceness(nice: number): void {
  if (!(Number.isInteger(nice) && nice >= 0 && nice <= 19)) throw new Error(`Condition failed: niceness ${nice} is an integer 0..19`);
}

/** Whether chrt(1) is on this process's PATH (an executable file named chrt in one of its directories). */
export function chrtAvailable(): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'chrt'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The command that runs `file args` with `nice` (0..19) added to this process's niceness (as is
 * for 0) and, with `idle`, under SCHED_IDLE (throws when chrt is not on the PATH).
 */
export function withNice(nice: number, file: string, args: string[], idle = false): [string, string[]] {
  assertNiceness(nice);
  if (idle && !chrtAvailable()) throw new Error(`Condition failed: chrt (util-linux) on the PATH, to run ${file} under SCHED_IDLE`);
  const niced: [string, string[]] = nice === 0 ? [file, args] : ['nice', ['-n', String(nice), file, ...args]];
  return idle ? ['chrt', ['--idle', '0', niced[0], ...niced[1]]] : niced;
}
