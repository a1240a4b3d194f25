/**
 * Runs the engine alone (venues must already be listening): `node scripts/engine.ts [--config f]`.
 * The demo (scripts/demo.ts) starts venue simulators and then this.
 */
import { ConfigError, loadConfig } from '../workers/config.ts';
import { Engine, jsonLogger } from '../workers/supervisor.ts';

/** The config file: `--config <file>` (a missing path is a ConfigError), else CONFIG_FILE. */
export function configPath(argv: string[]): string | undefined {
  const i = argv.indexOf('--config');
  if (i >= 0) {
    if (argv[i + 1] === undefined) throw new ConfigError('--config needs a file path');
    return argv[i + 1];
  }
  return process.env.CONFIG_FILE;
}

export async function runEngine(): Promise<Engine> {
  const config = loadConfig(process.env, configPath(process.argv));
  const engine = new Engine(config, jsonLogger);
  await engine.start();
  const shutdown = async (signal: string) => {
    jsonLogger('info', `received ${signal}, stopping`);
    await engine.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  return engine;
}

// main only when started directly (`node scripts/engine.ts`): importing this module (demo.ts)
// runs nothing.
if (import.meta.filename === process.argv[1]) {
  try {
    await runEngine();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    // A start that cannot go on (e.g. a stage's recovery refused: JournalPruned): the reason as
    // a log line, and a non-zero exit that takes the stage threads with it.
    jsonLogger('error', 'engine did not start', { error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
}
