/**
 * Plain-text tables for benchmark output: one header row, a rule, then rows; text columns align
 * left, numeric columns right.
 */

export type Cell = string | number;

export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number' || /^[\d.,\s<>=+-]+[kMG]?$/.test(String(r[c] ?? ''))));
  const line = (cells: readonly Cell[]): string =>
    cells
      .map((cell, c) => {
        const text = String(cell ?? '');
        return numeric[c] ? text.padStart(widths[c]) : text.padEnd(widths[c]);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

export function printTable(title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  console.log(`\n${title}\n${formatTable(headers, rows)}`);
}
