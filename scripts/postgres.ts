/**
 * A throwaway Postgres 15 for tests, benchmarks and the demo, as DESIGN.md describes: initdb in a
 * temporary directory as a non-root user, a private port on 127.0.0.1 and a private socket
 * directory, removed again on stop(). Nothing needs to run beforehand.
 *
 *   node scripts/postgres.ts            (npm run db:start) starts one, prints DATABASE_URL, and
 *                                       stops and removes it on Ctrl-C.
 *
 * Binaries: the newest /usr/lib/postgresql/<v>/bin, else initdb/postgres on PATH or in
 * /usr/local/bin. When none is found and we are root (CI machines start without Postgres),
 * `apt-get update && apt-get install -y postgresql` installs Debian's. initdb refuses to run as
 * root, so as root the cluster belongs to the `postgres` user (Debian's package creates it), or
 * to a system user `omspg` created for the purpose.
 *
 * pause() stops the server and keeps its data; resume() starts it again on the same port: the
 * sinks' outage tests use them.
 *
 * Lifeline: the server outlives a process that is SIGKILLed or crashes (postgres does not watch
 * its parent), so beside it runs a watchdog shell (LIFELINE_SCRIPT) whose stdin is a pipe from
 * this process. When that pipe ends, however this process ended, the watchdog stops the server
 * whose pid postmaster.pid names (only if that pid is a postgres), and removes the directory.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { withNice } from './nice.ts';
import { isRoot } from './native-build.ts';

export interface PostgresOptions {
  /** fsync and synchronous_commit on (a benchmark's honest figure); off by default (tests). */
  durable: boolean;
  /** Where to print the server's own log lines (none by default). */
  log: ((line: string) => void) | null;
  /** Milliseconds to wait for the server to accept connections. */
  startTimeoutMs: number;
  /**
   * Niceness added to this process's for the server and every process it forks (nice -n; 0: as
   * this process). On one host with the engine, docs/TUNING.md advises 10, so the server takes
   * only what the stages leave.
   */
  nice: number;
  /** The server and every process it forks under SCHED_IDLE (chrt --idle; scripts/nice.ts). */
  idle: boolean;
}

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server, keeping its data directory. */
  pause(): Promise<void>;
  /** Starts the paused server again on the same port. */
  resume(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const BIN_DIRS = ['/usr/local/bin', '/usr/bin'];

function versionDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'));
}

/** The directory holding initdb and postgres, or null. */
export function findPostgresBin(): string | null {
  for (const dir of [...versionDirs(), ...BIN_DIRS]) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  return null;
}

/** Finds the binaries, installing Debian's postgresql when missing and we are root. */
export function ensurePostgresInstalled(log: (line: string) => void = () => {}): string {
  const found = findPostgresBin();
  if (found !== null) return found;
  if (!isRoot()) throw new Error('postgres: binaries not found (apt-get install -y postgresql), and not root to install them');
  log('postgres: binaries not found, installing Debian postgresql');
  execFileSync('apt-get', ['update'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const installed = findPostgresBin();
  if (installed === null) throw new Error('postgres: apt-get install postgresql finished but initdb/postgres were not found');
  return installed;
}

/** uid and gid of the user that owns the cluster (null when we are not root: ourselves). */
function clusterUser(): { uid: number; gid: number } | null {
  if (!isRoot()) return null;
  for (const name of ['postgres', 'omspg']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // not there: try the next, or create omspg below
    }
  }
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'omspg'], { stdio: 'ignore' });
  return { uid: Number(execFileSync('id', ['-u', 'omspg'], { encoding: 'utf8' }).trim()), gid: Number(execFileSync('id', ['-g', 'omspg'], { encoding: 'utf8' }).trim()) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}: ${stderr()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
    }
    if (Date.now() > until) throw new Error(`postgres did not accept connections within ${timeoutMs} ms: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The watchdog, `sh -c LIFELINE_SCRIPT lifeline <root> <dataDir>`: waits for the end of its stdin
 * (this process closed it or died), then fast-shuts-down the server postmaster.pid names, SIGKILLs
 * it if it is still there 10 s later, and removes the temporary directory. A pid counts as the
 * server only while its working directory is the data directory (the postmaster's; a reused pid,
 * or another cluster's backend, is left alone). Without /proc (not Linux) the server cannot be
 * told apart, so the watchdog does nothing rather than remove a live server's directory. A paused
 * server has no postmaster.pid: only the directory goes.
 */
const LIFELINE_SCRIPT = `
root="$1"
data=$(cd "$2" 2>/dev/null && pwd -P) || data="$2"
read -r _ || true
[ -d /proc/self ] || exit 0
ours() {
  case "$1" in ''|*[!0-9]*) return 1 ;; esac
  [ "$(readlink "/proc/$1/cwd" 2>/dev/null)" = "$data" ]
}
if [ -f "$data/postmaster.pid" ]; then
  pid=$(head -n 1 "$data/postmaster.pid")
  if ours "$pid"; then
    kill -INT "$pid" 2>/dev/null
    i=0
    while ours "$pid" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if ours "$pid"; then
      kill -KILL "$pid" 2>/dev/null
      sleep 0.5
    fi
  fi
fi
rm -rf "$root"
`;

/** Starts the watchdog of the server in root (it acts when this process closes its stdin or dies). */
function startLifeline(root: string, dataDir: string): ChildProcess {
  const watchdog = spawn('sh', ['-c', LIFELINE_SCRIPT, 'lifeline', root, dataDir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // Neither the watchdog nor its pipe keeps this process alive. Detached, in a process group of
  // its own, the watchdog does not get a Ctrl-C at the terminal (the server and this process do).
  watchdog.unref();
  (watchdog.stdin as unknown as { unref(): void }).unref();
  watchdog.stdin!.on('error', () => {});
  // No shell to spawn: the server runs without a lifeline, as it did before there was one.
  watchdog.on('error', () => {});
  return watchdog;
}

/**
 * Creates database `name` (an SQL identifier the caller chose) on the server of `url`; returns
 * its URL. The benchmarks and tests that need a database of their own on one throwaway server.
 */
export async function freshDatabase(url: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Condition failed: database name ${name} is a lower-case SQL identifier`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Every server this process started and has not stopped: killed if the process exits first. */
const LIVE = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of LIVE) if (c.exitCode === null) c.kill('SIGQUIT');
});

export async function startPostgres(options: Partial<PostgresOptions> = {}): Promise<PostgresServer> {
  const opts: PostgresOptions = { durable: false, log: null, startTimeoutMs: 30_000, nice: 0, idle: false, ...options };
  const bin = ensurePostgresInstalled(opts.log ?? undefined);
  const user = clusterUser();
  const root = mkdtempSync(join(tmpdir(), 'oms-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  mkdirSync(socketDir);
  if (user !== null) {
    chownSync(root, user.uid, user.gid);
    chownSync(socketDir, user.uid, user.gid);
  }
  const asUser = user === null ? {} : { uid: user.uid, gid: user.gid };
  try {
    execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'], {
      ...asUser, stdio: ['ignore', 'ignore', 'pipe'], cwd: root,
    });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`postgres: initdb failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message}`);
  }
  const lifeline = startLifeline(root, dataDir);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const durability = opts.durable ? ['-c', 'fsync=on', '-c', 'synchronous_commit=on'] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  let child: ChildProcess | null = null;
  let errText = '';

  const launch = async (): Promise<void> => {
    errText = '';
    const serverArgs = ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=50', ...durability];
    // nice(1) execs the server in its own pid, so signals and exit are the server's. With its
    // watchdog running, the server is detached, in a process group of its own: a Ctrl-C at the
    // terminal reaches this process only, which stops the engine (its sinks' last batches) before
    // the server, not the server at once; the watchdog still ends it if this process dies.
    const [file, argv] = withNice(opts.nice, join(bin, 'postgres'), serverArgs, opts.idle);
    const c = spawn(file, argv, { ...asUser, cwd: root, stdio: ['ignore', 'ignore', 'pipe'], detached: lifeline.pid !== undefined });
    c.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      errText = (errText + text).slice(-4000);
      if (opts.log !== null) for (const line of text.split('\n')) if (line.length > 0) opts.log(`postgres: ${line}`);
    });
    // A server that cannot be spawned at all is reported by waitReady (its text), not thrown here.
    c.once('error', (err) => { errText += `\nspawn ${file}: ${err.message}`; });
    LIVE.add(c);
    c.once('exit', () => LIVE.delete(c));
    child = c;
    await waitReady(url, c, opts.startTimeoutMs, () => errText);
  };

  const halt = (): Promise<void> => {
    const c = child;
    child = null;
    if (c === null || c.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      c.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      c.kill('SIGINT'); // fast shutdown: open sessions are ended, data is kept
    });
  };

  try {
    await launch();
  } catch (err) {
    await halt();
    rmSync(root, { recursive: true, force: true });
    lifeline.stdin!.end();
    throw err;
  }
  return {
    url,
    port,
    dataDir,
    pause: halt,
    resume: launch,
    async stop() {
      await halt();
      rmSync(root, { recursive: true, force: true });
      lifeline.stdin!.end();
    },
  };
}

// CLI: start one and keep it until Ctrl-C.
if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startPostgres({ durable: process.argv.includes('--durable'), log: null });
  process.stdout.write(`DATABASE_URL=${server.url}\n(data in ${server.dataDir}; Ctrl-C stops and removes it)\n`);
  const shutdown = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  setInterval(() => {}, 1 << 30);
}
