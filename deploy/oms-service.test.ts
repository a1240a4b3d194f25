/**
 * Goal: deploy/oms.service is a unit systemd accepts without a single complaint, with the
 * settings docs/DEPLOY.md promises (CPU affinity, limits, restart policy, hardening), and its
 * ExecStart runs the engine entry that exists in this checkout.
 * Method: `systemd-analyze verify` on a copy whose /opt/oms paths point at this checkout (verify
 * checks that ExecStart is executable). systemd-analyze prints parse errors on stderr and still
 * exits 0, so any output counts as a failure; a deliberately broken copy proves the check bites.
 * When systemd-analyze is missing and we are root (CI), Debian's `systemd` package is installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const UNIT = readFileSync(join(ROOT, 'deploy', 'oms.service'), 'utf8');
let dir: string;

function ensureSystemdAnalyze(): void {
  if (spawnSync('systemd-analyze', ['--version']).status === 0) return;
  if (process.getuid?.() !== 0) throw new Error('systemd-analyze is missing: apt-get install -y systemd');
  execFileSync('apt-get', ['update'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'systemd'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** The unit with /opt/oms replaced by this checkout. */
function localUnit(text: string): string {
  return text.replaceAll('/opt/oms', ROOT);
}

/** Runs systemd-analyze verify; returns everything it said (empty = accepted). */
function verify(name: string, text: string): { status: number | null; output: string } {
  const file = join(dir, name);
  writeFileSync(file, text);
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  // Complaints about other units on this machine are not ours.
  const output = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes(name)).join('\n');
  return { status: r.status, output };
}

const setting = (key: string): string[] => UNIT.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

beforeAll(() => {
  ensureSystemdAnalyze();
  dir = mkdtempSync(join(tmpdir(), 'oms-unit-'));
}, 30 * 60_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('deploy/oms.service', () => {
  it('passes systemd-analyze verify with no complaint', () => {
    const r = verify('oms.service', localUnit(UNIT));
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('a broken copy is caught (the check can fail)', () => {
    expect(verify('oms-bad-affinity.service', localUnit(UNIT).replace(/^CPUAffinity=.*$/m, 'CPUAffinity=banana')).output).toMatch(/CPU affinity/);
    expect(verify('oms-bad-exec.service', localUnit(UNIT).replace(/^ExecStart=.*$/m, 'ExecStart=/nonexistent/node x.ts')).output).toMatch(/not executable/);
  });

  it('pins CPUs, sets limits, restarts on failure but not on a bad config, and is hardened', () => {
    expect(setting('CPUAffinity')).toEqual(['2 3']);
    expect(setting('Restart')).toEqual(['on-failure']);
    expect(setting('RestartPreventExitStatus')).toEqual(['2']); // config errors exit 2
    expect(Number(setting('LimitNOFILE')[0])).toBeGreaterThanOrEqual(65536);
    expect(setting('MemoryMax')).toHaveLength(1);
    expect(setting('LimitMEMLOCK')).toEqual(['infinity']);
    for (const key of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'RestrictAddressFamilies', 'SystemCallFilter', 'CapabilityBoundingSet']) {
      expect(setting(key), key).toHaveLength(1);
    }
    expect(setting('User')).toEqual(['oms']);
  });

  it('starts the engine entry of this checkout with a config file', () => {
    const exec = setting('ExecStart')[0].split(' ');
    expect(exec[0]).toBe('/opt/oms/node_modules/.bin/node');
    expect(existsSync(join(ROOT, 'node_modules', '.bin', 'node'))).toBe(true);
    const entry = exec.find((a) => a.endsWith('.ts'))!;
    expect(existsSync(join(ROOT, entry))).toBe(true);
    expect(exec).toContain('--config');
  });
});
