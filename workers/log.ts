/**
 * Structured logs: pino, JSON lines on stdout, written by the main thread and by code off the
 * hot path (supervisor, configuration errors, engine state changes). Stage threads do not write
 * logs from their ring handlers: they post a 'log' message (workers/worker-data.ts WorkerReport)
 * and the supervisor writes it here, so no synchronous I/O happens on a hot-path thread. The one
 * exception is threadLogger(): the fix thread's FIX session events (logon, logout, disconnect,
 * reconnect attempt, sequence reset, refused logon; workers/fix/session-log.ts), a handful of
 * lines per session change and never per message, written to the worker's process.stdout, a pipe
 * the main thread drains (the write does not block the fix thread on I/O).
 *
 * Level: config `log.level` (or env LOG_LEVEL): trace, debug, info, warn, error, fatal, silent.
 */
import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import { LOG_LEVELS, type LogLevel } from './config.ts';

const OPTIONS = {
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

/** The process's root logger. Its level is set from config once the config is read. */
export const rootLogger: Pino = pino({
  base: { pid: process.pid, service: 'oms' },
  level: process.env.LOG_LEVEL !== undefined && (LOG_LEVELS as readonly string[]).includes(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : 'info',
  ...OPTIONS,
});

/**
 * A stage thread's own logger, for rare events only (see the module comment): the same JSON
 * lines as the root logger with a `stage` key. `destination` defaults to process.stdout (tests
 * pass a stream that captures the lines).
 */
export function threadLogger(stage: string, level: LogLevel, destination: DestinationStream = process.stdout): Pino {
  return pino({ base: { pid: process.pid, service: 'oms', stage }, level, ...OPTIONS }, destination);
}

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
