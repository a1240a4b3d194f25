/**
 * Structured logs: pino, JSON lines on stdout, written by the main thread and by code off the
 * hot path (supervisor, configuration errors, engine state changes). Stage threads never write
 * logs themselves: they post a 'log' message (workers/worker-data.ts WorkerReport) and the
 * supervisor writes it here, so no synchronous I/O happens on a hot-path thread.
 *
 * Level: config `log.level` (or env LOG_LEVEL): trace, debug, info, warn, error, fatal, silent.
 */
import { pino, type Logger as Pino } from 'pino';
import { LOG_LEVELS, type LogLevel } from './config.ts';

/** The process's root logger. Its level is set from config once the config is read. */
export const rootLogger: Pino = pino({
  base: { pid: process.pid, service: 'oms' },
  level: process.env.LOG_LEVEL !== undefined && (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : 'info',
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});

export function setLogLevel(level: LogLevel): void {
  rootLogger.level = level;
}

/** The supervisor's logging signature, over pino (`fields` become the line's keys). */
export function pinoLog(logger: Pino): (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void {
  return (level, msg, fields) => {
    if (fields === undefined) logger[level](msg);
    else logger[level](fields, msg);
  };
}
