/**
 * Goal: docs/CONFIG.md documents every configuration key the code has and every environment
 * variable it reads, so the reference cannot drift from workers/config.ts.
 * Method: walk DEFAULT_CONFIG (arrays by their first element, as `name[].key`) and
 * ENV_OVERRIDES; each must appear in the page in backticks (a key may be documented on a row
 * that lists several: `a.b`, `.c`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, ENV_OVERRIDES } from './config.ts';

const page = readFileSync(new URL('../docs/CONFIG.md', import.meta.url), 'utf8');

function keyPaths(v: unknown, path: string, out: string[]): void {
  if (Array.isArray(v)) {
    out.push(`${path}[]`);
    if (v.length > 0 && typeof v[0] === 'object' && v[0] !== null) keyPaths(v[0], `${path}[]`, out);
    return;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) keyPaths(x, path === '' ? k : `${path}.${k}`, out);
    return;
  }
  out.push(path);
}

/** `a.b.c` is documented as `a.b.c`, or as `.c` on a row about `a.b`, or `a.b[]` for an array. */
function documented(key: string): boolean {
  if (page.includes(`\`${key}\``)) return true;
  const last = key.slice(key.lastIndexOf('.'));
  const parent = key.slice(0, key.lastIndexOf('.'));
  return page.split('\n').some((line) => line.includes(`\`${last}\``) && line.includes(`\`${parent}`));
}

describe('docs/CONFIG.md', () => {
  it('documents every key of DEFAULT_CONFIG', () => {
    const keys: string[] = [];
    keyPaths(DEFAULT_CONFIG, '', keys);
    expect(keys.length).toBeGreaterThan(50);
    expect(keys.filter((k) => !documented(k))).toEqual([]);
  });

  it('documents the optional keys that have no default', () => {
    for (const k of ['http.tls.certFile', 'http.tls.keyFile', 'http.tls.passphraseFile', 'accounts[].apiKeyFile', 'fixAcceptor.sessions[].passwordFile', 'fixAcceptor.sessions[].storeDir']) {
      expect(documented(k), k).toBe(true);
    }
  });

  it('documents every environment variable', () => {
    for (const name of [...ENV_OVERRIDES, 'CONFIG_FILE']) expect(page, name).toContain(`\`${name}\``);
  });
});
