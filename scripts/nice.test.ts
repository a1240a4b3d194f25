/**
 * Goal: the servers the demo and bench:persist start beside the engine can run at a lower
 * scheduling priority (docs/TUNING.md: niceness 10 on one host), and the niceness reaches every
 * process that does their work: Postgres's backends (forked per connection) and the mock broker.
 * Method: start each with nice 10, read the niceness of the serving processes (os.getPriority);
 * a control at the default priority reads this process's own.
 */
import { getPriority } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { withNice } from './nice.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';
import { startKafkaMock, type KafkaMock } from './kafka-mock.ts';

/** The niceness of the backend serving a connection, read while it serves it. */
async function backendNice(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return getPriority((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  } finally {
    await client.end();
  }
}

describe('withNice', () => {
  it('runs the program through nice(1) at the niceness, as is at 0, and refuses anything outside 0..19', () => {
    expect(withNice(10, '/usr/bin/postgres', ['-D', 'd'])).toEqual(['nice', ['-n', '10', '/usr/bin/postgres', '-D', 'd']]);
    expect(withNice(0, '/usr/bin/postgres', ['-D', 'd'])).toEqual(['/usr/bin/postgres', ['-D', 'd']]);
    for (const bad of [-1, 20, 2.5, Number.NaN]) expect(() => withNice(bad, 'x', [])).toThrow(/niceness/);
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

  it('the Kafka mock at nice 10', async () => {
    const mock = await startKafkaMock(1, [], 1, 10);
    servers.push(mock);
    expect(getPriority(mock.pid)).toBe(Math.min(19, getPriority(process.pid) + 10));
  }, 120_000);
});
