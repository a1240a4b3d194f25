/** Goal: only configured keys authenticate, each to its own account and role. */
import { describe, expect, it } from 'vitest';
import { Authenticator } from './auth.ts';

const auth = new Authenticator([
  { id: 1, name: 'T1', apiKey: 'key-one-111', role: 'trader' },
  { id: 9, name: 'OPS', apiKey: 'key-admin-999', role: 'admin' },
]);

describe('Authenticator', () => {
  it('maps a bearer header or a token to its account and role', () => {
    expect(auth.authenticate('Bearer key-one-111', undefined)).toEqual({ accountId: 1, name: 'T1', admin: false });
    expect(auth.authenticate('', 'key-admin-999')).toEqual({ accountId: 9, name: 'OPS', admin: true });
  });

  it('refuses missing, unknown, near-miss and oversize keys', () => {
    for (const [h, t] of [['', undefined], ['Bearer ', undefined], ['Bearer key-one-112', undefined], ['Basic key-one-111', undefined], ['', 'KEY-ONE-111'], ['', 'x'.repeat(10_000)]] as const) {
      expect(auth.authenticate(h, t)).toBeNull();
    }
  });

  it('the header wins over the query token', () => {
    expect(auth.authenticate('Bearer key-one-111', 'key-admin-999')?.accountId).toBe(1);
  });
});
