/**
 * Goal: the trader's web page works in a real browser against the real engine: log in with a
 * token, enter an order and see it acknowledged and then filled in the blotter (and in fills and
 * positions), cancel a resting order, ask for a routing decision (shown, or a clear "not
 * available"), and, as an admin, use the kill switch. A screenshot is saved under
 * test-output/web-e2e/ (gitignored).
 * Method: Debian's headless Chromium (scripts/ensure-chromium.ts installs it when missing and we
 * are root) driven by playwright-core with executablePath; the engine and venue simulators from
 * workers/test-stack.fixture.ts. Waits are on page state with generous timeouts, never on time.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChromium } from '../../scripts/ensure-chromium.ts';
import { startTestStack, type TestStack } from '../test-stack.fixture.ts';

const OUT_DIR = join(import.meta.dirname, '..', '..', 'test-output', 'web-e2e');
const WAIT = { timeout: 20_000 };

let t: TestStack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  const found = ensureChromium(process.env, (line) => process.stdout.write(`${line}\n`));
  if (found.path === null) throw new Error(`no Chromium for the browser test: ${found.why}`);
  mkdirSync(OUT_DIR, { recursive: true });
  t = await startTestStack({}, 29);
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  browser = await chromium.launch({ executablePath: found.path, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('dialog', (d) => void d.accept());
}, 45 * 60_000); // a cold apt-get install of chromium on CI

afterAll(async () => {
  await browser?.close();
  await t?.cleanup();
});

/** The blotter row of the order with this ClOrdID. */
const row = (clOrdId: string) => page.locator('#blotter tbody tr', { has: page.locator('td:first-child', { hasText: clOrdId }) });

async function login(token: string): Promise<void> {
  await page.fill('[data-testid=token]', token);
  await page.click('[data-testid=login]');
  await page.locator('[data-testid=conn]', { hasText: /^connected$/ }).waitFor(WAIT);
}

/** Sends an order from the ticket; returns the ClOrdID the page gave it. */
async function sendOrder(o: { symbol: string; side: string; qty: number; price: string; tif: string }): Promise<string> {
  await page.fill('[data-testid=symbol]', o.symbol);
  await page.selectOption('[data-testid=side]', o.side);
  await page.fill('[data-testid=qty]', String(o.qty));
  await page.selectOption('[data-testid=ordType]', 'LIMIT');
  await page.fill('[data-testid=price]', o.price);
  await page.selectOption('[data-testid=tif]', o.tif);
  await page.click('[data-testid=send]');
  const msg = await page.locator('#ticket-msg', { hasText: /^Sent / }).textContent(WAIT);
  return /^Sent (\S+)\.$/.exec(msg ?? '')![1];
}

describe('trader web page in headless Chromium', () => {
  it('serves the page with its security headers', async () => {
    const res = await fetch(`http://${t.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`http://${t.base}/app.js`)).headers.get('content-type')).toContain('javascript');
  });

  it('refuses a wrong token and logs in with a right one', async () => {
    await page.goto(`http://${t.base}/`);
    await page.fill('[data-testid=token]', 'not-a-valid-key');
    await page.click('[data-testid=login]');
    await page.locator('#login-error', { hasText: 'not valid' }).waitFor(WAIT);
    expect(await page.locator('#app').isHidden()).toBe(true);
    await login('demo-key-trader1');
    expect(await page.locator('[data-testid=admin]').isHidden()).toBe(true); // a trader sees no kill switch
  });

  it('enters an order and sees it acknowledged and filled in the blotter', async () => {
    // Record every status each blotter row shows, as the page renders it.
    // (A string: this project type-checks without the DOM library.)
    await page.evaluate(`
      window.seen = {};
      new MutationObserver(() => {
        for (const tr of document.querySelectorAll('#blotter tbody tr')) {
          const cl = tr.cells[0] ? tr.cells[0].textContent : '';
          const list = (window.seen[cl] ??= []);
          if (list[list.length - 1] !== tr.dataset.status) list.push(tr.dataset.status);
        }
      }).observe(document.querySelector('#blotter tbody'), { childList: true, subtree: true, characterData: true });
    `);
    // 1% through the reference price: crosses the simulated book.
    const cl = await sendOrder({ symbol: 'AAPL', side: 'BUY', qty: 100, price: '179.02', tif: 'DAY' });
    await row(cl).locator('[data-testid=status]', { hasText: 'FILLED' }).waitFor(WAIT);
    const seen = (await page.evaluate(`window.seen[${JSON.stringify(cl)}]`)) as string[];
    // The ack was on screen (NEW, with the engine's order id) before the fill.
    expect(seen).toContain('NEW');
    expect(seen.indexOf('NEW')).toBeLessThan(seen.indexOf('FILLED'));
    const orderId = await row(cl).locator('td').nth(1).textContent();
    expect(Number(orderId)).toBeGreaterThan(0);
    expect(await row(cl).locator('td').nth(6).textContent()).toBe('100');
    await page.locator('#fills tbody tr', { hasText: cl }).first().waitFor(WAIT);
    await page.locator('#positions tbody tr', { hasText: 'AAPL' }).locator('td').nth(1).filter({ hasText: /^100$/ }).waitFor(WAIT);
  });

  it('cancels a resting order', async () => {
    // Far below the market: rests at the venue.
    const cl = await sendOrder({ symbol: 'MSFT', side: 'BUY', qty: 10, price: '100.00', tif: 'DAY' });
    const cancel = row(cl).locator('[data-testid=cancel]');
    await cancel.waitFor(WAIT);
    await row(cl).locator('[data-testid=status]', { hasText: /^(NEW|ROUTED)$/ }).waitFor(WAIT);
    await cancel.click();
    await row(cl).locator('[data-testid=status]', { hasText: 'CANCELED' }).waitFor(WAIT);
    expect(await row(cl).locator('[data-testid=cancel]').count()).toBe(0); // no cancel on a closed order
  });

  it('shows the routing decision of an order, or says it is not available', async () => {
    const filled = page.locator('#blotter tbody tr[data-status=FILLED]').first();
    const orderId = Number(await filled.locator('td').nth(1).textContent());
    const api = await fetch(`http://${t.base}/v1/orders/${orderId}/route`, { headers: { Authorization: 'Bearer demo-key-trader1' } });
    await filled.locator('[data-testid=route-btn]').click();
    if (api.status === 404) {
      await page.locator('[data-testid=route-na]', { hasText: `not available for order ${orderId}` }).waitFor(WAIT);
    } else {
      expect(api.status).toBe(200);
      await page.locator('[data-testid=route-venues]').first().waitFor(WAIT); // the venues and their scores
      expect(await page.locator('[data-testid=route-venues] tbody tr').count()).toBeGreaterThanOrEqual(t.config.venues.length);
    }
    mkdirSync(OUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUT_DIR, 'trader.png'), fullPage: true });
  });

  it('lets an admin use the kill switch', async () => {
    await page.click('#logout');
    await page.locator('#login').waitFor(WAIT);
    await login('demo-key-admin');
    await page.locator('[data-testid=admin]').waitFor({ state: 'visible', ...WAIT });
    await page.fill('[data-testid=kill-account]', 'TRADER2');
    await page.click('[data-testid=kill-halt]');
    await page.locator('#kill-msg', { hasText: 'TRADER2 is now HALTED' }).waitFor(WAIT);
    await page.locator('#kill-active li', { hasText: 'TRADER2: HALTED' }).waitFor(WAIT);
    // The engine agrees: TRADER2's orders are refused.
    const refused = await fetch(`http://${t.base}/v1/orders`, {
      method: 'POST',
      headers: { Authorization: 'Bearer demo-key-trader2', 'content-type': 'application/json' },
      body: JSON.stringify({ clOrdId: 'after-halt', symbol: 'AAPL', side: 'BUY', qty: 1, price: '1.00' }),
    });
    expect(((await refused.json()) as { reasonName: string }).reasonName).toBe('ACCOUNT_HALTED');
    await page.screenshot({ path: join(OUT_DIR, 'admin.png'), fullPage: true });
    await page.click('#kill-form button[data-mode=NORMAL]');
    await page.locator('#kill-msg', { hasText: 'TRADER2 is now NORMAL' }).waitFor(WAIT);
  });
});
