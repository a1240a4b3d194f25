/**
 * Runs a server at a lower scheduling priority: on one host with the engine, docs/TUNING.md
 * advises niceness 10 for Postgres and the Kafka brokers, so they take only the CPU the stages
 * leave. nice(1) (coreutils) execs the program in its own pid, so signals, exit codes and the
 * children it forks (Postgres's backends) are the server's, at its niceness.
 */

/** Refuses a niceness increment outside 0..19. */
export function assertNiceness(nice: number): void {
  if (!(Number.isInteger(nice) && nice >= 0 && nice <= 19)) throw new Error(`Condition failed: niceness ${nice} is an integer 0..19`);
}

/** The command that runs `file args` with `nice` (0..19) added to this process's niceness (as is for 0). */
export function withNice(nice: number, file: string, args: string[]): [string, string[]] {
  assertNiceness(nice);
  return nice === 0 ? [file, args] : ['nice', ['-n', String(nice), file, ...args]];
}
