// Accessibility scans of the pages people live on, at a phone's and a laptop's width,
// and screenshots of / and /chat at both (end2end/artifacts/, for reviewers).
import { test, expect, signUpAndVerify } from './fixtures';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import path from 'node:path';

const ARTIFACTS = path.join(__dirname, '..', 'artifacts');
const WIDTHS = [390, 1280];

async function clean(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${what}: ${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(' ')})`)).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${what} overflows`).toBeLessThanOrEqual(0);
}

for (const width of WIDTHS) {
  test(`/, /chat and /account pass an accessibility scan at ${width} px; screenshots of / and /chat`, async ({ page, server }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(server.url + '/');
    await page.waitForLoadState('load');
    await clean(page, `/ at ${width}`);
    await page.screenshot({ path: path.join(ARTIFACTS, `home-${width}px.png`), fullPage: true });

    await signUpAndVerify(page, server, 'maria.garcia@example.com', undefined, { displayName: 'María' });
    await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
    await page.evaluate(() => {
      const t = (window as any).__fakeTwilio;
      t.addUser('bo@example.com', 'Bo');
      t.addUser('cy@example.com', 'Cy Twain');
      t.seed('general', {
        participants: ['bo@example.com', 'cy@example.com'],
        messages: [
          { author: 'bo@example.com', body: 'Morning! Is the release still on for today?' },
          { author: 'maria.garcia@example.com', body: 'Yes, after the demo at 3.' },
          { author: 'cy@example.com', body: 'I will bring the slides 👍' },
        ],
      });
      t.seed('design', { participants: ['bo@example.com'], messages: 1 });
    });
    await page.getByTestId('conversations').getByRole('button', { name: /^design/ }).click();
    await page.getByTestId('conversations').getByRole('button', { name: /^general/ }).click();
    await expect(page.getByTestId('messages').locator('li')).toHaveCount(3);
    await page.evaluate(() => (window as any).__fakeTwilio.receive('design', 'bo@example.com', 'New mock-ups are up'));
    await page.evaluate(() => (window as any).__fakeTwilio.startTyping('general', 'cy@example.com'));
    await expect(page.getByTestId('typing')).toHaveText('Cy Twain is typing…');
    await clean(page, `/chat at ${width}`);
    await page.screenshot({ path: path.join(ARTIFACTS, `chat-${width}px.png`), fullPage: true });

    await page.goto(server.url + '/account');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await clean(page, `/account at ${width}`);
  });
}
