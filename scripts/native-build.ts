/**
 * Builds a C program of the project's on first use: compiled with gcc into a cache directory
 * (node_modules/.cache/oms-native/<name>-<hash of the source>), so an edit rebuilds it and
 * parallel test files never run a half-written binary (written to a temporary name, renamed).
 *
 * When gcc or a needed header is missing and we are root (CI machines start without them),
 * `apt-get update && apt-get install -y <packages>` installs them (Debian's packages).
 */

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/oms-native/', import.meta.url));

export interface NativeProgram {
  /** The binary's name stem, e.g. 'kafka-mock'. */
  name: string;
  /** Absolute path of the C source. */
  source: string;
  /** Linker arguments after the source, e.g. ['-lrdkafka']. */
  libs: string[];
  /** Headers that must exist before compiling (absolute paths). */
  headers: string[];
  /** Debian packages that provide gcc, libc's headers and the headers above. */
  packages: string[];
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Compiles the program if its binary for this source is not cached yet; returns the binary's path. */
export function buildNative(program: NativeProgram, log: (line: string) => void = () => {}): string {
  const source = readFileSync(program.source);
  const hash = createHash('sha256').update(source).update(program.libs.join(' ')).digest('hex').slice(0, 16);
  const binary = join(CACHE_DIR, `${program.name}-${hash}`);
  if (existsSync(binary)) return binary;
  if (!hasGcc() || program.headers.some((h) => !existsSync(h))) {
    const what = `gcc or one of ${program.headers.join(', ') || 'its headers'}`;
    if (!isRoot()) throw new Error(`${program.name}: ${what} missing (apt-get install -y ${program.packages.join(' ')}), and not root to install them`);
    log(`${program.name}: installing ${program.packages.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...program.packages], { stdio: 'ignore', env });
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${binary}.${process.pid}.tmp`;
  execFileSync('gcc', ['-O2', '-Wall', '-o', tmp, program.source, ...program.libs], { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(tmp, binary);
  return binary;
}
