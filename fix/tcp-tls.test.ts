/**
 * FIX over TLS on 127.0.0.1: the acceptor listens with a certificate, the initiator trusts
 * exactly that certificate. A self-signed certificate is generated with openssl at test time.
 * Shown: logon and messages both ways over TLS; an initiator that does not trust the certificate
 * never logs on (its handshake fails, the acceptor counts the refusal, and the initiator keeps
 * retrying with back-off); a plain-TCP initiator against the TLS port never logs on either.
 */
import { execFileSync } from 'node:child_process';
import type { ConnectionOptions } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SendResult } from './fix-codes.ts';
import { MsgType } from './msg-type.ts';
import { SessionState } from './session-state.ts';
import { FixSession, SessionRole } from './session.ts';
import { FixAcceptor, FixInitiator } from './tcp.ts';
import { RecordingApp, newOrderBody, newReportBody } from './test-util.ts';

const clock = { now: () => Date.now() };
const cleanups: (() => Promise<void> | void)[] = [];
let dir = '';
let key: Buffer;
let cert: Buffer;
const PASSPHRASE = 'fix-tls-test';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fix-tls-'));
  writeFileSync(join(dir, 'pass.txt'), PASSPHRASE);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-passout', `file:${join(dir, 'pass.txt')}`,
  ], { stdio: 'ignore' });
  key = readFileSync(join(dir, 'key.pem'));
  cert = readFileSync(join(dir, 'cert.pem'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startTlsAcceptor() {
  const app = new RecordingApp();
  const session = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app });
  const acceptor = new FixAcceptor({ port: 0, sessions: [session], timerIntervalMs: 50, logonTimeoutMs: 2000, tls: { key, cert, passphrase: PASSPHRASE } });
  const port = await acceptor.listen();
  cleanups.push(() => acceptor.close(200));
  return { acceptor, port, session, app };
}

function startInitiator(port: number, tls: ConnectionOptions | undefined) {
  const app = new RecordingApp();
  const session = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app, heartBtIntSec: 30, resetSeqNumOnLogon: true });
  const initiator = new FixInitiator({ port, session, timerIntervalMs: 50, reconnectMinMs: 20, reconnectMaxMs: 100, tls });
  initiator.start();
  cleanups.push(() => initiator.stop());
  return { initiator, session, app };
}

describe('FIX over TLS', () => {
  it('logs on and exchanges messages both ways when the initiator trusts the certificate', async () => {
    const { port, session: acceptorSession, app: acceptorApp } = await startTlsAcceptor();
    const { session, app } = startInitiator(port, { ca: cert, servername: 'localhost' });
    await waitFor(() => session.state === SessionState.ACTIVE && acceptorSession.state === SessionState.ACTIVE, 'logon over TLS');
    newOrderBody(session.beginApp(MsgType.NEW_ORDER_SINGLE), 'T1', clock.now());
    expect(session.sendApp()).toBe(SendResult.OK);
    await waitFor(() => acceptorApp.appMessages.length === 1, 'order at the acceptor');
    expect(acceptorApp.appMessages[0][11]).toBe('T1');
    newReportBody(acceptorSession.beginApp(MsgType.EXECUTION_REPORT), 'T1');
    expect(acceptorSession.sendApp()).toBe(SendResult.OK);
    await waitFor(() => app.appMessages.length === 1, 'report at the initiator');
    expect(app.appMessages[0][35]).toBe('8');
  });

  it('refuses an initiator that does not trust the certificate: no logon, refusals counted, retries go on', async () => {
    const { acceptor, port, session: acceptorSession } = await startTlsAcceptor();
    const { initiator, session } = startInitiator(port, { servername: 'localhost' }); // no ca: self-signed is untrusted
    await waitFor(() => initiator.attempts >= 3 && acceptor.refusedCount >= 2, 'failed handshakes');
    expect(session.state).not.toBe(SessionState.ACTIVE);
    expect(acceptorSession.state).toBe(SessionState.DISCONNECTED);
  });

  it('a plain-TCP initiator on the TLS port never logs on', async () => {
    const { acceptor, port, session: acceptorSession } = await startTlsAcceptor();
    const { initiator, session } = startInitiator(port, undefined);
    await waitFor(() => initiator.attempts >= 2 && acceptor.refusedCount >= 1, 'refused plain connections');
    expect(session.state).not.toBe(SessionState.ACTIVE);
    expect(acceptorSession.state).toBe(SessionState.DISCONNECTED);
  });
});
