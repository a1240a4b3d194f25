// Goal: venue options parse from argv and env with defaults, and invalid values are refused
// with a message naming the option. Method: direct calls to parseVenueConfig.
import { describe, expect, it } from 'vitest';
import { parseVenueConfig } from './venue-config.ts';

describe('parseVenueConfig', () => {
  it('has defaults for everything', () => {
    const c = parseVenueConfig([], {});
    expect(c.port).toBe(9101);
    expect(c.host).toBe('127.0.0.1');
    expect(c.name).toBe('V1');
    expect(c.compId).toBe('V1');
    expect(c.clients).toEqual(['OMS']);
    expect(c.symbols.map((s) => s.symbol)).toEqual(['AAPL', 'MSFT', 'TSLA', 'GOOGL', 'AMZN']);
    expect(c.symbols[0].startPriceTicks).toBe(190_000_000);
    expect(c.tickSizeTicks).toBe(10_000);
  });

  it('reads --opt value, --opt=value and VENUE_ env, the command line winning', () => {
    const c = parseVenueConfig(['--port', '9102', '--name=V2', '--fee-bps', '0.5', '--symbols', 'XYZ:10.5'], { VENUE_PORT: '1', VENUE_SEED: '42', VENUE_LATENCY_MS: '3' });
    expect([c.port, c.name, c.compId, c.feeBps, c.seed, c.latencyMs]).toEqual([9102, 'V2', 'V2', 0.5, 42, 3]);
    expect(c.symbols).toEqual([{ symbol: 'XYZ', startPriceTicks: 10_500_000 }]);
  });

  it('refuses invalid input', () => {
    const bad: [string[], RegExp][] = [
      [['--port', '70000'], /--port/],
      [['--port'], /needs a value/],
      [['--nope', '1'], /unknown option/],
      [['positional'], /unexpected argument/],
      [['--reject-prob', '1.5'], /--reject-prob/],
      [['--fee-bps', '-1'], /--fee-bps/],
      [['--symbols', 'AAPL'], /SYMBOL:PRICE/],
      [['--symbols', 'AAPL:1.005'], /multiple of --tick/],
      [['--symbols', 'A:1,A:2'], /duplicates/],
      [['--name', 'bad name'], /--name/],
      [['--clients', 'A,A'], /duplicates/],
      [['--host', 'example.com'], /--host/],
    ];
    for (const [argv, re] of bad) expect(() => parseVenueConfig(argv, {}), argv.join(' ')).toThrow(re);
  });
});
