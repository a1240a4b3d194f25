/**
 * The HDR percentile-distribution plot: latency against percentile, the percentile axis on the
 * log scale of 1 / (1 - q) (so 90%, 99%, 99.9%, 99.99% sit one decade apart and the tail is as
 * wide as the body), one line per series. Written as a self-contained HTML page with an inline
 * SVG (no script, no network), and as PNG by a headless Chromium when one is installed.
 *
 * The latency axis is logarithmic too: on these machines one plot holds 100 us medians and
 * 20 ms tails, which a linear axis would flatten into the floor.
 */

import { existsSync, writeFileSync } from 'node:fs';
import type * as hdr from 'hdr-histogram-js';

export interface PlotPoint {
  /** Percentile, 0 to 100. */
  percentile: number;
  /** Latency at that percentile, in us. */
  valueUs: number;
}

export interface PlotSeries {
  label: string;
  points: PlotPoint[];
  /** Line style: baselines and floors are drawn dashed or dotted beside the measured system; dash-dot for a variant of it. */
  style?: 'solid' | 'dashed' | 'dotted' | 'dashdot';
  /** CSS colour; by default one from the palette by position. */
  color?: string;
}

const DASHES = { dashed: '8 4', dotted: '2 3', dashdot: '10 3 2 3' } as const;

/** Points per decade of 1 / (1 - q). */
const STEPS_PER_DECADE = 20;

/**
 * The distribution of a histogram of microseconds: percentiles at x = 1 / (1 - q) spaced
 * evenly on a log scale from 0% up to the last sample, then the maximum.
 */
export function percentileDistribution(histogram: hdr.Histogram): PlotPoint[] {
  const count = histogram.totalCount;
  if (count === 0) return [];
  const points: PlotPoint[] = [];
  for (let i = 0; ; i++) {
    const x = 10 ** (i / STEPS_PER_DECADE);
    if (x >= count) break;
    const percentile = 100 * (1 - 1 / x);
    points.push({ percentile, valueUs: histogram.getValueAtPercentile(percentile) });
  }
  points.push({ percentile: 100 * (1 - 1 / count), valueUs: histogram.maxValue });
  return points;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const W = 960;
const H = 540;
const LEFT = 80;
const RIGHT = 220;
const TOP = 50;
const BOTTOM = 60;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** x = log10(1 / (1 - q)); the last point of a series (q = 1 - 1/count) stays finite. */
function xOf(percentile: number): number {
  const rest = 1 - percentile / 100;
  return rest <= 0 ? 0 : Math.log10(1 / rest);
}

function percentileLabel(decade: number): string {
  if (decade === 0) return '0%';
  return `${(100 * (1 - 10 ** -decade)).toFixed(Math.max(0, decade - 2))}%`;
}

function latencyLabel(us: number): string {
  if (us >= 1_000_000) return `${us / 1_000_000} s`;
  if (us >= 1000) return `${us / 1000} ms`;
  return `${us} us`;
}

/** The plot as an SVG element. Series with no points are listed in the legend as "(no data)". */
export function renderSvg(title: string, series: readonly PlotSeries[]): string {
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1, Math.ceil(Math.max(0, ...all.map((p) => xOf(p.percentile)))));
  const values = all.map((p) => Math.max(1, p.valueUs));
  const minY = values.length === 0 ? 0 : Math.floor(Math.log10(Math.min(...values)));
  const maxY = values.length === 0 ? 1 : Math.max(minY + 1, Math.ceil(Math.log10(Math.max(...values))));
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const px = (x: number): number => LEFT + (x / maxX) * plotW;
  const py = (us: number): number => TOP + plotH - ((Math.log10(Math.max(1, us)) - minY) / (maxY - minY)) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${LEFT}" y="${TOP - 20}" font-size="16">${esc(title)}</text>`);
  for (let d = 0; d <= maxX; d++) {
    const x = px(d).toFixed(1);
    out.push(`<line x1="${x}" y1="${TOP}" x2="${x}" y2="${TOP + plotH}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${TOP + plotH + 18}" text-anchor="middle">${percentileLabel(d)}</text>`);
  }
  for (let d = minY; d <= maxY; d++) {
    const y = py(10 ** d).toFixed(1);
    out.push(`<line x1="${LEFT}" y1="${y}" x2="${LEFT + plotW}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${LEFT - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${latencyLabel(10 ** d)}</text>`);
  }
  out.push(`<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${LEFT + plotW / 2}" y="${H - 15}" text-anchor="middle">percentile</text>`);
  out.push(`<text transform="translate(20 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle">latency</text>`);
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const legendY = TOP + 10 + i * 20;
    const dash = s.style === undefined || s.style === 'solid' ? '' : ` stroke-dasharray="${DASHES[s.style]}"`;
    out.push(`<line x1="${W - RIGHT + 15}" y1="${legendY}" x2="${W - RIGHT + 45}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${W - RIGHT + 52}" y="${legendY}" dominant-baseline="middle">${esc(s.label)}${s.points.length === 0 ? ' (no data)' : ''}</text>`);
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${px(xOf(p.percentile)).toFixed(1)} ${py(p.valueUs).toFixed(1)}`).join(' ');
    out.push(`<path class="series" data-label="${esc(s.label)}" d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** A self-contained page: the plot, a caption, and the plotted points as JSON for other tools. */
export function renderHtml(title: string, caption: string, series: readonly PlotSeries[]): string {
  const data = JSON.stringify(series.map((s) => ({ label: s.label, points: s.points })));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:16px;color:#222}p{max-width:960px}</style></head>
<body>
${renderSvg(title, series)}
<p>${esc(caption)}</p>
<script type="application/json" id="hdr-points">${data.replace(/</g, '\\u003c')}</script>
</body></html>
`;
}

/** Where a headless Chromium may be: CHROMIUM_PATH, then Debian's package. */
export function findChromium(): string | null {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate !== undefined && candidate !== '' && existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Writes the page to htmlPath and, when a Chromium is installed, a PNG of it to pngPath.
 * Returns why the PNG was skipped, or null when it was written.
 */
export async function writePlot(htmlPath: string, pngPath: string, title: string, caption: string, series: readonly PlotSeries[]): Promise<string | null> {
  const html = renderHtml(title, caption, series);
  writeFileSync(htmlPath, html);
  const executablePath = findChromium();
  if (executablePath === null) return 'no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)';
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: W + 32, height: H + 90 } });
    await page.setContent(html);
    await page.screenshot({ path: pngPath, fullPage: true });
  } finally {
    await browser.close();
  }
  return null;
}
