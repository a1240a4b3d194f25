/**
 * Goal: a throwaway Postgres (scripts/postgres.ts) does not outlive the process that started it,
 * however that process ends: a SIGKILLed demo or test leaves no server on its port and no data
 * directory behind. stop() still ends the server and its watchdog the ordinary way. The server
 * runs in a process group of its own, so a Ctrl-C at the terminal reaches its parent only.
 * Method: a real parent process (postgres-parent.fixture.ts) starts a real server and is
 * SIGKILLed; the server's process (postmaster.pid) must end, its port close and its directory
 * go. No timing asserted: the waits are bounded only so that a failure ends.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../workers/test-stack.fixture.ts';
import { accepts, processGroup, running, startTime } from './process-state.fixture.ts';
import { startPostgres } from './postgres.ts';

const PARENT = fileURLToPath(new URL('./postgres-parent.fixture.ts', import.meta.url));

/** Live watchdog shells of the server in root (their command line is `sh -c <script> lifeline <root> ...`). */
function watchdogsOf(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // ended meanwhile
    }
    const at = argv.indexOf('lifeline');
    if (at > 0 && argv[at + 1] === root && running(Number(entry))) pids.push(Number(entry));
  }
  return pids;
}

/** The running server of a data directory (postmaster.pid), and whether that process still lives. */
interface ServerProcess { pid: number; alive(): boolean }

function serverOf(dataDir: string): ServerProcess {
  const pid = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  // Its start time (field 22 of /proc/<pid>/stat): a pid reused by another process is not it.
  const started = startTime(pid);
  return { pid, alive: () => started !== null && running(pid) && startTime(pid) === started };
}

// Process states are read from /proc.
describe.skipIf(process.platform !== 'linux')('throwaway Postgres lifeline', () => {
  it('the server stops and its directory goes when its parent is SIGKILLed', async () => {
    const parent = spawn(process.execPath, [PARENT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    parent.stdout!.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    let server: ServerProcess | null = null;
    let root: string | null = null;
    try {
      const [port, dataDir] = await waitFor('the parent to start its server', async () => {
        const m = /postgres (\d+) (\S+)\n/.exec(out);
        return m === null ? undefined : [Number(m[1]), m[2]] as const;
      }, 60_000);
      root = dirname(dataDir);
      server = serverOf(dataDir);
      // While the parent lives, so does the server, and it listens.
      expect(server.alive()).toBe(true);
      expect(await accepts(port)).toBe(true);
      // In a process group of its own: a Ctrl-C to the parent's group does not reach it.
      expect(processGroup(server.pid)).toBe(server.pid);
      expect(processGroup(server.pid)).not.toBe(processGroup(parent.pid!));
      const exited = new Promise((r) => parent.once('exit', r));
      parent.kill('SIGKILL');
      await exited;
      const s = server;
      // Hang guards: the watchdog gives the server 10 s (100 shell sleeps of 0.1 s, each a process
      // to start, longer on a loaded machine) before it kills it, then removes the directory.
      await waitFor('the orphaned server to stop', async () => !s.alive(), 45_000);
      await waitFor('its directory to be removed', async () => !existsSync(root!), 45_000);
      await waitFor('its watchdog to end', async () => watchdogsOf(root!).length === 0, 45_000);
    } finally {
      // Whatever failed: no server, watchdog or directory left behind.
      if (server?.alive()) process.kill(server.pid, 'SIGKILL');
      if (root !== null) {
        for (const pid of watchdogsOf(root)) process.kill(pid, 'SIGKILL');
        rmSync(root, { recursive: true, force: true });
      }
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    }
  }, 240_000);

  it('stop() ends the server, then its watchdog; pause() and resume() leave the watchdog waiting', async () => {
    const db = await startPostgres();
    const root = dirname(db.dataDir);
    let server = serverOf(db.dataDir);
    try {
      expect(watchdogsOf(root)).toHaveLength(1);
      await db.pause();
      // A paused server keeps its directory and its watchdog (resume() starts it again).
      expect(server.alive()).toBe(false);
      expect(existsSync(db.dataDir)).toBe(true);
      await db.resume();
      expect(await accepts(db.port)).toBe(true);
      server = serverOf(db.dataDir);
      expect(watchdogsOf(root)).toHaveLength(1);
    } finally {
      await db.stop();
    }
    expect(server.alive()).toBe(false);
    expect(existsSync(root)).toBe(false);
    await waitFor('the watchdog to end', async () => watchdogsOf(root).length === 0);
  }, 90_000);
});
