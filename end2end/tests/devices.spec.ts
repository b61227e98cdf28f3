// "Connected devices" on the account page: a device connected there gets chat tokens with
// its device token (as an app would send it), until it is disconnected there.
import { test, expect, signUpAndVerify, type ChatpassServer } from './fixtures';
import AxeBuilder from '@axe-core/playwright';
import type { APIRequestContext, Page } from '@playwright/test';
import path from 'node:path';

const DATE = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC';

/** A proven, signed-in user on a hydrated /account; the Connected devices section. */
async function devicesSection(page: Page, server: ChatpassServer, email: string) {
  await signUpAndVerify(page, server, email);
  await page.goto(server.url + '/account');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  return page.getByTestId('connected-devices');
}

/** What an app does with its device token: ask for a chat token (no cookie, no Origin). */
function chatToken(request: APIRequestContext, server: ChatpassServer, token: string) {
  return request.post(server.url + '/api/chat_token', { headers: { Authorization: 'Bearer ' + token } });
}

test('connect a device, use its token, disconnect it, and the token stops working', async ({ page, server, request, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  const section = await devicesSection(page, server, 'devices@example.com');
  await expect(section.getByTestId('no-devices')).toHaveText('No apps are connected.');

  await section.getByLabel('Device name').fill("Ana's phone");
  await section.getByRole('button', { name: 'Connect device', exact: true }).click();
  await expect(section.getByTestId('new-device')).toContainText('will not be shown again');
  const token = await section.getByLabel('Device token').inputValue();
  expect(token.length, 'at least 256 bits').toBeGreaterThanOrEqual(43);
  const device = section.getByTestId('device');
  await expect(device).toHaveCount(1);
  await expect(device).toContainText("Ana's phone");
  await expect(device).toContainText(new RegExp(`Connected ${DATE}; never used`));

  await section.getByRole('button', { name: 'Copy', exact: true }).click();
  await expect(section.getByTestId('token-copied')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

  const used = await chatToken(request, server, token);
  expect(used.status()).toBe(200);
  expect((await used.json()).identity).toBe('devices@example.com');

  // Listed afresh: used now, and the token is in the page no more.
  await page.reload();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(device).toContainText(new RegExp(`Connected ${DATE}; last used ${DATE}`));
  expect(await page.content()).not.toContain(token);

  await device.getByRole('button', { name: "Disconnect Ana's phone" }).click();
  await expect(section.getByTestId('no-devices')).toBeVisible();
  await expect(device).toHaveCount(0);
  const refused = await chatToken(request, server, token);
  expect(refused.status()).toBe(401);
  expect(refused.headers()['www-authenticate']).toBe('Bearer error="invalid_token"');
  await page.reload();
  await expect(section.getByTestId('no-devices')).toBeVisible();
});

test.describe('a device name the server refuses', () => {
  // The refused name is answered 400, which the browser logs.
  test.use({ allowedStatuses: [400] });

  test('an empty name shows the error beside the field and connects nothing', async ({ page, server }) => {
    const section = await devicesSection(page, server, 'empty-name@example.com');
    await section.getByRole('button', { name: 'Connect device', exact: true }).click();
    const field = section.getByLabel('Device name');
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#field-device_name-error')).toHaveText('Name the device: 1 to 64 characters.');
    await expect(section.getByTestId('new-device')).toHaveCount(0);
    await expect(section.getByTestId('no-devices')).toBeVisible();

    // Put right, the same form connects it; the longest name and the token fit 320 px.
    await page.setViewportSize({ width: 320, height: 900 });
    const name = 'Tablet-' + 'x'.repeat(57);
    await field.fill(name);
    await section.getByRole('button', { name: 'Connect device', exact: true }).click();
    await expect(section.getByTestId('device')).toContainText(name);
    await expect(section.getByTestId('new-device')).toBeVisible();
    await expect(page.locator('#field-device_name-error')).toHaveText('');
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(' ')})`)).toEqual([]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, 'the page fits 320 px').toBeLessThanOrEqual(0);
    await section.screenshot({ path: path.join(__dirname, '..', 'artifacts', 'account-devices-320px.png') });
  });
});

test('without JavaScript the page says connecting needs it, and Disconnect is a plain form', async ({ page, server, browser, request }) => {
  const section = await devicesSection(page, server, 'no-script@example.com');
  await section.getByLabel('Device name').fill('Desktop app');
  await section.getByRole('button', { name: 'Connect device', exact: true }).click();
  const token = await section.getByLabel('Device token').inputValue();
  expect((await chatToken(request, server, token)).status()).toBe(200);

  const plain = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const nojs = await plain.newPage();
  await nojs.goto(server.url + '/account');
  const plainSection = nojs.getByTestId('connected-devices');
  // Playwright's text of the section leaves <noscript> out; its paragraph has its own.
  await expect(plainSection.locator('noscript p')).toBeVisible();
  await expect(plainSection.locator('noscript p')).toContainText('Connecting a device needs JavaScript');
  await expect(plainSection.getByRole('button', { name: 'Connect device', exact: true })).toBeDisabled();
  await plainSection.getByRole('button', { name: 'Disconnect Desktop app' }).click();
  // server_fn sends a plain post back to the page it came from (with an empty query).
  await expect(nojs).toHaveURL(new RegExp(`^${server.url}/account\\??$`));
  await expect(plainSection.getByTestId('no-devices')).toHaveText('No apps are connected.');
  expect((await chatToken(request, server, token)).status()).toBe(401);
  await plain.close();
});
