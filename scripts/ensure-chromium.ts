/**
 * Makes sure a Chromium the browser test can drive exists: Debian's `chromium` at
 * /usr/bin/chromium (or CHROMIUM_PATH). When it is missing and we are root (CI), it is installed
 * with apt-get; otherwise the caller is told what to install. Run it alone with
 * `node scripts/ensure-chromium.ts`, or import ensureChromium() from a test's beforeAll.
 *
 * playwright-core drives it through `chromium.launch({ executablePath })`: no browser download
 * from Playwright's CDN, just the distribution's package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** apt-get update + install of chromium and its libraries: minutes on a cold mirror. */
const INSTALL_TIMEOUT_MS = 30 * 60_000;

export interface ChromiumCheck {
  path: string | null;
  /** Why there is none, when path is null. */
  why: string;
}

/** Returns the Chromium executable, installing Debian's package first when allowed. */
export function ensureChromium(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = () => {}): ChromiumCheck {
  const path = env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
  if (existsSync(path)) return { path, why: '' };
  if (env.CHROMIUM_PATH !== undefined) return { path: null, why: `CHROMIUM_PATH=${path} does not exist` };
  if (process.getuid?.() !== 0) {
    return { path: null, why: `${path} is missing and this user cannot install it: run \`apt-get install -y chromium\` as root` };
  }
  log('ensure-chromium: installing Debian chromium (apt-get update && apt-get install -y chromium)');
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env: aptEnv, timeout: INSTALL_TIMEOUT_MS });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env: aptEnv, timeout: INSTALL_TIMEOUT_MS });
  } catch (err) {
    return { path: null, why: `apt-get install chromium failed: ${(err as Error).message}` };
  }
  return existsSync(path) ? { path, why: '' } : { path: null, why: `apt-get ran but ${path} is still missing` };
}

if (import.meta.filename === process.argv[1]) {
  const r = ensureChromium(process.env, (l) => process.stdout.write(`${l}\n`));
  if (r.path === null) {
    process.stderr.write(`${r.why}\n`);
    process.exit(1);
  }
  process.stdout.write(`chromium: ${r.path}\n`);
}
