import { test, expect } from './fixtures';

test('the home page is server-rendered, hydrates, and its control works', async ({ page, server }) => {
  const response = await page.goto(server.url + '/');
  expect(response?.status()).toBe(200);
  // Server-rendered content is there before any script runs.
  await expect(page.getByRole('heading', { name: 'chatpass' })).toBeVisible();
  // The WASM bundle flips this attribute once it has hydrated the page.
  await expect(page.locator('.hydration')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator('#hydration-status')).toHaveText('Ready.');
  await page.getByRole('button', { name: 'Check the app is live' }).click();
  await expect(page.locator('#hydration-status')).toHaveText('Live: clicked once.');
  await page.getByRole('button', { name: 'Check the app is live' }).click();
  await expect(page.locator('#hydration-status')).toHaveText('Live: clicked 2 times.');
});
