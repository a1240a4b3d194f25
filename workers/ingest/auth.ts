/**
 * Authentication at the edge: API keys per account, each with a role. Every WebSocket upgrade
 * and REST request presents a key ("Authorization: Bearer <key>", or "?token=<key>" for a
 * browser's WebSocket, which cannot set headers). Keys are kept only as SHA-256 digests, so the
 * process holds no usable secret and a lookup does not compare secrets byte by byte.
 *
 * A principal is one account: it sees and touches only that account's orders; the admin role
 * adds the /v1/admin routes.
 */
import { createHash } from 'node:crypto';
import type { Role } from '../config.ts';

export interface Principal {
  readonly accountId: number;
  readonly name: string;
  readonly admin: boolean;
}

export interface KeyedAccount {
  id: number;
  name: string;
  apiKey: string;
  role: Role;
}

const MAX_KEY_LENGTH = 256;

export class Authenticator {
  private readonly byDigest = new Map<string, Principal>();

  constructor(accounts: KeyedAccount[]) {
    for (const a of accounts) {
      this.byDigest.set(digest(a.apiKey), { accountId: a.id, name: a.name, admin: a.role === 'admin' });
    }
  }

  /** The principal of a request, or null when no valid key was presented. Allocates (edge only). */
  authenticate(authorization: string, token: string | undefined): Principal | null {
    let key = token;
    if (authorization.startsWith('Bearer ')) key = authorization.slice(7).trim();
    if (key === undefined || key === '' || key.length > MAX_KEY_LENGTH) return null;
    return this.byDigest.get(digest(key)) ?? null;
  }
}

function digest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('base64');
}
