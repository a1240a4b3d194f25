/**
 * A progress line for long benchmark runs: redrawn in place on a terminal (stderr), silent
 * otherwise, so logs and CI output get only the final lines.
 */

export class ProgressLine {
  private readonly tty: boolean;
  private shown = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY === true;
  }

  /** Redraws: `label [#####.....] text`. fraction in [0, 1]. */
  update(label: string, fraction: number, text: string): void {
    if (!this.tty) return;
    const width = 24;
    const done = Math.max(0, Math.min(width, Math.round(fraction * width)));
    const bar = `${'#'.repeat(done)}${'.'.repeat(width - done)}`;
    const columns = process.stderr.columns ?? 120;
    process.stderr.write(`\r${`${label} [${bar}] ${text}`.slice(0, columns - 1).padEnd(columns - 1)}`);
    this.shown = true;
  }

  /** An open-loop run's line: seconds elapsed of those scheduled, orders sent, acked and rejected. */
  openLoop(label: string, p: { elapsedMs: number; scheduledMs: number; sent: number; acked: number; rejected: number }): void {
    const scheduledS = p.scheduledMs / 1000;
    this.update(label, p.elapsedMs / p.scheduledMs, `${Math.min(p.elapsedMs / 1000, scheduledS).toFixed(1)}/${scheduledS.toFixed(1)} s  sent ${p.sent}  acked ${p.acked}  rejected ${p.rejected}`);
  }

  /** Clears the line so ordinary output can follow. */
  clear(): void {
    if (!this.tty || !this.shown) return;
    process.stderr.write(`\r${' '.repeat((process.stderr.columns ?? 120) - 1)}\r`);
    this.shown = false;
  }
}
