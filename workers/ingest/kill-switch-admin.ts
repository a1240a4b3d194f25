/**
 * The kill switch as the admin API sees it (GET and POST /v1/admin/kill-switch). A change names
 * an account (by name or id) or ALL, and a mode; it goes to risk on the kill board
 * (workers/risk/kill-board.ts; risk journals it as an ACCOUNT_CONTROL record with the admin's
 * account) and is kept here, with who made it, for GET.
 * Allocates (admin path).
 *
 *   {"account":"TRADER1","mode":"HALTED"}      HALTED | REDUCE_ONLY | NORMAL
 *   {"account":"ALL","mode":"HALTED"}          every account at once
 */
import { AccountMode } from '../../codecs/records.ts';
import { Reason } from '../../engine/reasons.ts';

const MODE_NAMES = ['NORMAL', 'HALTED', 'REDUCE_ONLY'];
const HISTORY = 100;

export interface KillSwitchChange {
  account: string;
  accountId: number;
  mode: string;
  changedBy: string;
  changedAt: string;
}

export type KillSwitchValidation = { ok: true; accountId: number; account: string; mode: number } | { ok: false; reason: number; text: string };

export class KillSwitchAdmin {
  private readonly accountsByName: Map<string, number>;
  private readonly namesById: Map<number, string>;
  private readonly modes = new Map<string, KillSwitchChange>();
  private readonly history: KillSwitchChange[] = [];

  constructor(accounts: { id: number; name: string }[]) {
    this.accountsByName = new Map(accounts.map((a) => [a.name, a.id]));
    this.namesById = new Map(accounts.map((a) => [a.id, a.name]));
  }

  validate(body: unknown): KillSwitchValidation {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reason: Reason.MALFORMED, text: 'body must be a JSON object' };
    const b = body as Record<string, unknown>;
    const mode = typeof b.mode === 'string' ? MODE_NAMES.indexOf(b.mode) : -1;
    if (mode < 0) return { ok: false, reason: Reason.INVALID_FIELD, text: `mode must be one of ${MODE_NAMES.join(', ')}` };
    if (b.account === 'ALL') return { ok: true, accountId: 0, account: 'ALL', mode };
    const id = typeof b.account === 'string' ? this.accountsByName.get(b.account) : typeof b.account === 'number' && this.namesById.has(b.account) ? b.account : undefined;
    if (id === undefined) return { ok: false, reason: Reason.UNKNOWN_ACCOUNT, text: 'account must be a configured account name or id, or "ALL"' };
    return { ok: true, accountId: id, account: this.namesById.get(id) ?? String(id), mode };
  }

  commit(accountId: number, account: string, mode: number, changedBy: string): KillSwitchChange {
    const change = { account, accountId, mode: MODE_NAMES[mode], changedBy, changedAt: new Date().toISOString() };
    if (mode === AccountMode.NORMAL) this.modes.delete(account);
    else this.modes.set(account, change);
    this.history.push(change);
    if (this.history.length > HISTORY) this.history.shift();
    return change;
  }

  view(): { active: KillSwitchChange[]; history: KillSwitchChange[] } {
    return { active: [...this.modes.values()], history: this.history.slice().reverse() };
  }
}
