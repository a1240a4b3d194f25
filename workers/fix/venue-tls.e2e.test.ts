/**
 * Goal: FIX over TLS to a venue, configured by file (venues[].tls), works end to end: the engine
 * logs on to a venue simulator that only speaks TLS and an order fills through it; the settings
 * are validated at start-up with errors that name the key; and an initiator built from settings
 * whose CA does not sign the venue's certificate never logs on.
 *
 * Method: a throwaway CA and a venue certificate it signs (SAN IP:127.0.0.1) are generated with
 * openssl into a tmp directory at test time (no key is ever committed); the venue simulator runs as
 * its own process (sim/venue.ts --tls-cert/--tls-key, its key encrypted with a passphrase file);
 * the whole engine runs in this process with venues[0].tls = {caFile}. The market maker's walk is
 * frozen so a BUY above the ask fills. Every wait polls with a timeout; no timing is asserted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVenue, type VenueProcess } from '../../scripts/stack.ts';
import { SessionState } from '../../fix/session-state.ts';
import { FixSession, SessionRole } from '../../fix/session.ts';
import { FixInitiator } from '../../fix/tcp.ts';
import { RecordingApp } from '../../fix/test-util.ts';
import { ConfigError, readVenueTlsFiles, validateConfig } from '../config.ts';
import { Engine } from '../supervisor.ts';
import { postOrderAnswer, waitFor } from '../test-stack.fixture.ts';

const KEY = 'demo-key-trader1';
let dir = '';
let journalDir = '';
let venue: VenueProcess | undefined;
let engine: Engine | undefined;
let base = '';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, a venue certificate it signs (key encrypted), and a second CA that signs nothing we use. */
function makeCertificates(at: string): void {
  writeFileSync(join(at, 'pass.txt'), 'venue-tls-test\n');
  writeFileSync(join(at, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const ca of ['ca', 'other-ca']) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${ca}`, '-keyout', join(at, `${ca}.key`), '-out', join(at, `${ca}.pem`)]);
  }
  openssl(['req', '-newkey', 'rsa:2048', '-subj', '/CN=localhost', '-keyout', join(at, 'venue.key'), '-out', join(at, 'venue.csr'), '-passout', `file:${join(at, 'pass.txt')}`]);
  openssl(['x509', '-req', '-in', join(at, 'venue.csr'), '-CA', join(at, 'ca.pem'), '-CAkey', join(at, 'ca.key'), '-CAcreateserial', '-days', '1',
    '-extfile', join(at, 'san.cnf'), '-out', join(at, 'venue.pem')]);
}

/** waitFor (workers/test-stack.fixture.ts) with these tests' 20 s. */
const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> => waitFor(what, probe, 20_000);

function venueEntry(port: number, tls: unknown): Record<string, unknown> {
  return { id: 1, name: 'V1', host: '127.0.0.1', port, senderCompId: 'OMS', targetCompId: 'V1', heartBtIntS: 30, feeBps: '0.30', latencyUs: 300, fillProbability: 0.9,
    reconnectMinMs: 50, reconnectMaxMs: 400, tls };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'venue-tls-'));
  journalDir = mkdtempSync(join(tmpdir(), 'oms-venue-tls-'));
  makeCertificates(dir);
  venue = await startVenue(['--port', '0', '--name', 'V1', '--comp-id', 'V1', '--clients', 'OMS,PROBE', '--seed', '3', '--symbols', 'AAPL:190.00', '--mm-step-ms', '3600000',
    '--tls-cert', join(dir, 'venue.pem'), '--tls-key', join(dir, 'venue.key'), '--tls-passphrase-file', join(dir, 'pass.txt')], 'V1');
}, 60_000);

afterAll(async () => {
  await engine?.stop();
  if (venue !== undefined && venue.child.exitCode === null) {
    const exited = new Promise((r) => venue!.child.once('exit', r));
    venue.child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(journalDir, { recursive: true, force: true });
});

describe('venues[].tls', () => {
  it('is validated at start-up with errors that name the key', () => {
    const at = (tls: unknown) => () => validateConfig({ venues: [venueEntry(9101, tls)] });
    expect(at({ caFile: join(dir, 'missing.pem') })).toThrow(/venues\[0\]\.tls\.caFile: cannot read/);
    expect(at({ caFile: join(dir, 'ca.pem'), certFile: join(dir, 'venue.pem') })).toThrow(/venues\[0\]\.tls\.keyFile: certFile and keyFile go together/);
    expect(at({ caFile: join(dir, 'ca.pem'), passphraseFile: join(dir, 'pass.txt') })).toThrow(/venues\[0\]\.tls\.passphraseFile: needs keyFile/);
    expect(at({ caFile: join(dir, 'ca.pem'), verify: false })).toThrow(/venues\[0\]\.tls\.verify: is not a known setting/);
    expect(at({ rejectUnauthorized: 'no' })).toThrow(/venues\[0\]\.tls\.rejectUnauthorized/);
    expect(at({ servername: 'bad name' })).toThrow(/venues\[0\]\.tls\.servername/);
    expect(at('yes')).toThrow(ConfigError);
    const ok = validateConfig({ venues: [venueEntry(9101, { caFile: join(dir, 'ca.pem') })] });
    expect(ok.venues[0].tls).toEqual({ caFile: join(dir, 'ca.pem'), rejectUnauthorized: true });
    expect(validateConfig({ venues: [venueEntry(9101, null)] }).venues[0].tls).toBeUndefined();
    const opts = readVenueTlsFiles({ caFile: join(dir, 'ca.pem'), certFile: join(dir, 'venue.pem'), keyFile: join(dir, 'venue.key'), passphraseFile: join(dir, 'pass.txt'), servername: 'localhost', rejectUnauthorized: true });
    expect(opts.passphrase).toBe('venue-tls-test');
    expect(opts.ca!.toString('latin1')).toContain('BEGIN CERTIFICATE');
    expect(opts.servername).toBe('localhost');
  });

  it('never logs on when the configured CA does not sign the venue certificate', async () => {
    const settings = validateConfig({ venues: [venueEntry(venue!.port, { caFile: join(dir, 'other-ca.pem') })] }).venues[0].tls!;
    const clock = { now: () => Date.now() };
    const session = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'PROBE', targetCompId: 'V1', clock, app: new RecordingApp(), heartBtIntSec: 30, resetSeqNumOnLogon: true });
    const initiator = new FixInitiator({ port: venue!.port, session, reconnectMinMs: 20, reconnectMaxMs: 50, tls: readVenueTlsFiles(settings) });
    initiator.start();
    try {
      await until('three refused handshakes', async () => initiator.attempts >= 3);
      expect(session.state).not.toBe(SessionState.ACTIVE);
    } finally {
      await initiator.stop();
    }
    // The same initiator settings with the right CA log on: the refusal above was the CA.
    const trusted = validateConfig({ venues: [venueEntry(venue!.port, { caFile: join(dir, 'ca.pem') })] }).venues[0].tls!;
    const good = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'PROBE', targetCompId: 'V1', clock, app: new RecordingApp(), heartBtIntSec: 30, resetSeqNumOnLogon: true });
    const goodInitiator = new FixInitiator({ port: venue!.port, session: good, reconnectMinMs: 20, reconnectMaxMs: 50, tls: readVenueTlsFiles(trusted) });
    goodInitiator.start();
    try {
      await until('logon with the right CA', async () => good.state === SessionState.ACTIVE);
    } finally {
      await goodInitiator.stop();
    }
  });

  it('the engine logs on to a TLS-only venue and an order fills through it', async () => {
    const config = validateConfig({
      http: { host: '127.0.0.1', port: 0 },
      fixAcceptor: { port: 0 },
      journal: { dir: journalDir, fsync: 'none', fsyncIntervalMs: 10 },
      metrics: { port: 0 },
      session: { expireDayOrders: false },
      symbols: [{ name: 'AAPL', referencePrice: '190.00' }],
      venues: [venueEntry(venue!.port, { caFile: join(dir, 'ca.pem') })],
    });
    engine = new Engine(config, (level, msg, fields) => { if (level === 'error') console.error('engine:', msg, JSON.stringify(fields)); });
    const info = await engine.start();
    base = `127.0.0.1:${info.httpPort}`;
    const venueRow = await until('venue session ACTIVE over TLS', async () => {
      const h = (await (await fetch(`http://${base}/health`)).json()) as { fixSessions: { venues: { state: string; nextSenderSeqNum: number }[] } };
      const row = h.fixSessions.venues[0];
      // The state is published at once, the sequence numbers on the next status refresh (250 ms).
      return row !== undefined && row.state === 'ACTIVE' && row.nextSenderSeqNum > 1 ? row : null;
    });
    expect(venueRow.nextSenderSeqNum).toBeGreaterThan(1); // our Logon went out over the TLS link
    const res = await postOrderAnswer(KEY, base, { clOrdId: 'tls-1', symbol: 'AAPL', side: 'BUY', qty: 10, price: '191.00', ordType: 'LIMIT', tif: 'DAY' });
    expect(res.status).toBe(202);
    const orderId = res.answer.orderId as number;
    const filled = await until('order filled at the TLS venue', async () => {
      const o = (await (await fetch(`http://${base}/v1/orders/${orderId}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as { status: string; cumQty: number };
      return o.status === 'FILLED' ? o : null;
    });
    expect(filled.cumQty).toBe(10);
  });
});
