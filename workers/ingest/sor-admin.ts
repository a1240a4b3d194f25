/**
 * The runtime routing configuration as the admin API sees it (GET and POST /v1/admin/sor/config).
 * A change is validated here, given the next version number, and sent as a SOR_CONFIG record
 * through risk (which journals it, with the admin's account) to the SOR, where it takes effect
 * for the next order routed. The edge keeps the version in force and the recent history of
 * changes for GET. Allocates (admin path, not the order path).
 *
 * Body of POST (every key optional; what is given replaces the current value):
 *   {"weights":{"price":0.5,"latency":0.2,"fillprob":0.2,"fee":0.1},"quoteStaleMs":2000,
 *    "mode":"SINGLE_BEST"}
 * Weights are in [0, 1], at most 6 decimals, and sum to 1. mode is SINGLE_BEST, SPLIT or STAGED
 * (workers/sor/venue-score.ts describes each).
 */
import { WEIGHT_SCALE } from '../../codecs/records.ts';
import { Reason } from '../../engine/reasons.ts';

import { SOR_MODE_NAMES } from '../sor/venue-score.ts';

export { SorMode } from '../sor/venue-score.ts';
const MODE_NAMES: readonly string[] = SOR_MODE_NAMES;

export interface SorSettings {
  weights: { price: number; latency: number; fillprob: number; fee: number };
  quoteStaleMs: number;
  mode: string;
}

export interface SorChange {
  version: number;
  settings: SorSettings;
  changedBy: string;
  changedAt: string;
}

export type SorValidation = { ok: true; settings: SorSettings } | { ok: false; reason: number; text: string };

const WEIGHT_KEYS = ['price', 'latency', 'fillprob', 'fee'] as const;
const HISTORY = 50;

export class SorAdmin {
  private current: SorChange;
  private readonly history: SorChange[] = [];

  constructor(initial: SorSettings) {
    this.current = { version: 0, settings: initial, changedBy: 'config', changedAt: new Date().toISOString() };
    this.history.push(this.current);
  }

  view(): { current: SorChange; history: SorChange[] } {
    return { current: this.current, history: this.history.slice().reverse() };
  }

  /** Validates a POST body against the settings in force. */
  validate(body: unknown): SorValidation {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad(Reason.MALFORMED, 'body must be a JSON object');
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (key !== 'weights' && key !== 'quoteStaleMs' && key !== 'mode') return bad(Reason.INVALID_FIELD, `unknown setting ${JSON.stringify(key).slice(0, 40)}`);
    }
    const cur = this.current.settings;
    const weights = { ...cur.weights };
    if (b.weights !== undefined) {
      if (typeof b.weights !== 'object' || b.weights === null || Array.isArray(b.weights)) return bad(Reason.INVALID_FIELD, 'weights must be an object');
      const w = b.weights as Record<string, unknown>;
      for (const key of Object.keys(w)) {
        if (!(WEIGHT_KEYS as readonly string[]).includes(key)) return bad(Reason.INVALID_FIELD, `unknown weight ${JSON.stringify(key).slice(0, 40)}`);
        const v = w[key];
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1 || Math.abs(v * WEIGHT_SCALE - Math.round(v * WEIGHT_SCALE)) > 1e-6) {
          return bad(Reason.INVALID_FIELD, `weights.${key} must be a number in [0, 1] with at most 6 decimals`);
        }
        weights[key as (typeof WEIGHT_KEYS)[number]] = v;
      }
    }
    const sum = WEIGHT_KEYS.reduce((s, k) => s + Math.round(weights[k] * WEIGHT_SCALE), 0);
    if (sum !== WEIGHT_SCALE) return bad(Reason.INVALID_FIELD, `weights must sum to 1, they sum to ${sum / WEIGHT_SCALE}`);
    let quoteStaleMs = cur.quoteStaleMs;
    if (b.quoteStaleMs !== undefined) {
      if (typeof b.quoteStaleMs !== 'number' || !Number.isInteger(b.quoteStaleMs) || b.quoteStaleMs < 1 || b.quoteStaleMs > 3_600_000) {
        return bad(Reason.INVALID_FIELD, 'quoteStaleMs must be a whole number of milliseconds from 1 to 3600000');
      }
      quoteStaleMs = b.quoteStaleMs;
    }
    let mode = cur.mode;
    if (b.mode !== undefined) {
      if (typeof b.mode !== 'string' || !MODE_NAMES.includes(b.mode)) return bad(Reason.INVALID_FIELD, `mode must be one of ${MODE_NAMES.join(', ')}`);
      mode = b.mode;
    }
    return { ok: true, settings: { weights, quoteStaleMs, mode } };
  }

  /** Records an accepted change; returns it with its version. */
  commit(settings: SorSettings, changedBy: string): SorChange {
    this.current = { version: this.current.version + 1, settings, changedBy, changedAt: new Date().toISOString() };
    this.history.push(this.current);
    if (this.history.length > HISTORY) this.history.shift();
    return this.current;
  }

  nextVersion(): number {
    return this.current.version + 1;
  }
}

export function modeId(mode: string): number {
  return MODE_NAMES.indexOf(mode);
}

function bad(reason: number, text: string): SorValidation {
  return { ok: false, reason, text };
}
