import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { createUsHistogram } from './histogram-us.ts';
import { percentileDistribution, renderHtml, renderSvg } from './hdr-plot.ts';

function histogramOf(values: number[]): hdr.Histogram {
  const h = createUsHistogram();
  for (const v of values) h.recordValue(v);
  return h;
}

describe('percentileDistribution', () => {
  it('runs from 0% to the last sample, non-decreasing, and ends at the maximum', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => 100 + (i % 997));
    values.push(250_000); // one stall
    const h = histogramOf(values);
    const points = percentileDistribution(h);
    h.destroy();
    expect(points[0].percentile).toBe(0);
    for (let i = 1; i < points.length; i++) {
      expect(points[i].percentile).toBeGreaterThan(points[i - 1].percentile);
      expect(points[i].valueUs).toBeGreaterThanOrEqual(points[i - 1].valueUs);
    }
    const last = points[points.length - 1];
    expect(last.percentile).toBeCloseTo(100 * (1 - 1 / values.length), 9);
    // The stall is the maximum: the plot must show it, not round it away.
    expect(last.valueUs).toBeGreaterThanOrEqual(249_000);
    // 20 points per decade of 1/(1-q), over 4 decades.
    expect(points.length).toBeGreaterThanOrEqual(80);
  });

  it('is empty for an empty histogram', () => {
    const h = createUsHistogram();
    expect(percentileDistribution(h)).toEqual([]);
    h.destroy();
  });
});

describe('renderSvg / renderHtml', () => {
  it('draws one path per series with data, labels the tail decades, and escapes text', () => {
    const a = histogramOf(Array.from({ length: 5000 }, (_, i) => 50 + i));
    const series = [
      { label: 'engine 10000/s', points: percentileDistribution(a) },
      { label: 'naive <json>', points: percentileDistribution(a), style: 'dashed' as const },
      { label: 'engine-shared 10000/s', points: percentileDistribution(a), style: 'dashdot' as const },
      { label: 'empty', points: [] },
    ];
    a.destroy();
    const svg = renderSvg('order -> ack', series);
    expect(svg.match(/<path class="series"/g)).toHaveLength(3);
    expect(svg).toContain('data-label="naive &lt;json&gt;"');
    expect(svg).toContain('stroke-dasharray="8 4"');
    expect(svg).toContain('stroke-dasharray="10 3 2 3"'); // a variant of the engine, told apart from it
    expect(svg).toContain('empty (no data)');
    for (const label of ['0%', '90%', '99%', '99.9%']) expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('>1 ms</text>');
    const html = renderHtml('t', 'caption', series);
    const data = JSON.parse(/<script type="application\/json" id="hdr-points">(.*)<\/script>/.exec(html)![1]);
    expect(data.map((s: { label: string }) => s.label)).toEqual(['engine 10000/s', 'naive <json>', 'engine-shared 10000/s', 'empty']);
  });
});
