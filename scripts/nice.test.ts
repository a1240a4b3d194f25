/**
 * Goal: the servers the demo and bench:persist start beside the engine can run at a lower
 * scheduling priority (docs/TUNING.md: niceness 10 on one host), and the niceness reaches every
 * process that does their work: Postgres's backends (forked per connection) and the mock broker.
 * Method: start each with nice 10, read the niceness of the serving processes (os.getPriority);
 * a control at the default priority reads this process's own. The same for SCHED_IDLE (`idle`),
 * read from /proc/<pid>/stat's policy field.
 */
import { getPriority } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { withNice } from './nice.ts';
import { SCHED_IDLE, threadPolicy } from '../workers/thread-nice.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';
import { startKafkaMock, type KafkaMock } from './kafka-mock.ts';

/** Reads `of` the pid of the backend serving a connection, while it serves it. */
async function ofBackend<T>(url: string, of: (pid: number) => T): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return of((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  } finally {
    await client.end();
  }
}

/** The niceness of the backend serving a connection. */
const backendNice = (url: string): Promise<number> => ofBackend(url, (pid) => getPriority(pid));
/** The scheduling policy of the backend serving a connection (0 normal, 5 SCHED_IDLE). */
const backendPolicy = (url: string): Promise<number> => ofBackend(url, (pid) => threadPolicy(`/proc/${pid}/stat`));

describe('withNice', () => {
  it('runs the program through nice(1) at the niceness, as is at 0, and refuses anything outside 0..19', () => {
    expect(withNice(10, '/usr/bin/postgres', ['-D', 'd'])).toEqual(['nice', ['-n', '10', '/usr/bin/postgres', '-D', 'd']]);
    expect(withNice(0, '/usr/bin/postgres', ['-D', 'd'])).toEqual(['/usr/bin/postgres', ['-D', 'd']]);
    for (const bad of [-1, 20, 2.5, Number.NaN]) expect(() => withNice(bad, 'x', [])).toThrow(/niceness/);
  });

  it('with idle, runs it through chrt --idle 0 (after nice, when both)', () => {
    expect(withNice(10, '/usr/bin/postgres', ['-D', 'd'], true)).toEqual(['chrt', ['--idle', '0', 'nice', '-n', '10', '/usr/bin/postgres', '-D', 'd']]);
    expect(withNice(0, '/usr/bin/postgres', ['-D', 'd'], true)).toEqual(['chrt', ['--idle', '0', '/usr/bin/postgres', '-D', 'd']]);
  });
});

describe('servers at a lower priority', () => {
  const servers: (PostgresServer | KafkaMock)[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('Postgres at nice 10: its backends run at 10, also after a pause and resume; at the default, at this process\'s', async () => {
    const base = getPriority(process.pid);
    const niced = await startPostgres({ nice: 10 });
    servers.push(niced);
    expect(await backendNice(niced.url)).toBe(Math.min(19, base + 10));
    await niced.pause();
    await niced.resume();
    expect(await backendNice(niced.url)).toBe(Math.min(19, base + 10));
    const plain = await startPostgres();
    servers.push(plain);
    expect(await backendNice(plain.url)).toBe(base);
  }, 120_000);

  it('Postgres under SCHED_IDLE: its backends too; at the default, the normal policy', async () => {
    const idle = await startPostgres({ idle: true });
    servers.push(idle);
    expect(await backendPolicy(idle.url)).toBe(SCHED_IDLE);
    const plain = await startPostgres();
    servers.push(plain);
    expect(await backendPolicy(plain.url)).toBe(0);
  }, 120_000);

  it('the Kafka mock under SCHED_IDLE', async () => {
    const mock = await startKafkaMock(1, [], 1, 0, true);
    servers.push(mock);
    expect(threadPolicy(`/proc/${mock.pid}/stat`)).toBe(SCHED_IDLE);
  }, 120_000);

  it('the Kafka mock at nice 10', async () => {
    const mock = await startKafkaMock(1, [], 1, 10);
    servers.push(mock);
    expect(getPriority(mock.pid)).toBe(Math.min(19, getPriority(process.pid) + 10));
  }, 120_000);
});
