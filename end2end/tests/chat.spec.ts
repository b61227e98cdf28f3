import { test, expect, signUpAndVerify, PASSWORD } from './fixtures';
import type { Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import path from 'node:path';


function claims(token: string): any {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}


/** The fake SDK's clients, as plain data. */
async function clients(page: Page): Promise<{ token: string; isShutdown: boolean; calls: { method: string; token?: string }[] }[]> {
  return page.evaluate(() =>
    ((window as any).__fakeTwilio?.clients ?? []).map((c: any) => ({
      token: c.token,
      isShutdown: c.isShutdown,
      calls: c.calls,
    })),
  );
}

async function emit(page: Page, event: string) {
  await page.evaluate((e) => (window as any).__fakeTwilio.clients.at(-1).emit(e), event);
}

/** Tokens issued in the same second are identical by design: wait until the second has turned. */
async function nextSecondAfter(page: Page, token: string) {
  const iat = claims(token).iat as number;
  await expect.poll(() => page.evaluate(() => Math.floor(Date.now() / 1000)), { timeout: 5000 }).toBeGreaterThan(iat);
}

test('signed out, /chat redirects to login; after login the user lands on /chat', async ({ page, server, browser }) => {
  const response = await page.request.get(server.url + '/chat', { maxRedirects: 0 });
  expect(response.status()).toBe(302);
  expect(response.headers()['location']).toBe('/login?next=/chat');

  await signUpAndVerify(page, server, 'redirect@example.com');
  const other = await browser.newPage();
  await other.context().route('**/vendor/twilio-conversations.min.js', (r) =>
    r.fulfill({ path: path.join(__dirname, '..', 'fake', 'twilio-conversations.fake.js'), contentType: 'text/javascript' }),
  );
  await other.goto(server.url + '/chat');
  await expect(other).toHaveURL(server.url + '/login?next=/chat');
  await expect(other.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await other.getByLabel('Email').fill('redirect@example.com');
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other).toHaveURL(server.url + '/chat');
  await expect(other.getByTestId('token-identity')).toHaveText('redirect@example.com');
  await other.close();
});

test('after sign-up the SDK client is created with a token for the user, and a small chat works', async ({ page, server }) => {
  await signUpAndVerify(page, server, 'chatter@example.com');
  await expect.poll(async () => (await clients(page)).length).toBe(1);
  const [client] = await clients(page);
  expect(claims(client.token).grants.identity).toBe('chatter@example.com');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('token-identity')).toHaveText('chatter@example.com');
  await expect(page.getByTestId('token-kind')).toHaveText('demo (Twilio will refuse it)');
  await expect(page.getByTestId('demo-banner')).toBeVisible();
  await expect(page.getByTestId('token-countdown')).toHaveText(/^(59m|1h 00m)/);

  await page.getByLabel('Conversation name').fill('general');
  await page.getByRole('button', { name: 'Join or create' }).click();
  await expect(page.getByRole('heading', { name: 'Messages in general' })).toBeVisible();
  await expect(page.getByTestId('conversations')).toContainText('general');
  await page.getByLabel('Message', { exact: true }).fill('hello from chatpass');
  await page.getByRole('button', { name: 'Send' }).click();
  // Shown by display name (the email's local part when none was chosen), with the
  // identity beside it.
  await expect(page.getByTestId('messages').locator('li')).toHaveText([
    /^chatterchatter@example\.com\d\d:\d\dhello from chatpass$/,
  ]);
});

test('tokenAboutToExpire fetches a fresh token and calls updateToken with it', async ({ page, server }) => {
  await signUpAndVerify(page, server, 'refresh@example.com');
  await expect.poll(async () => (await clients(page)).length).toBe(1);
  const first = (await clients(page))[0].token;
  await nextSecondAfter(page, first);
  await emit(page, 'tokenAboutToExpire');
  await expect(page.getByTestId('token-refreshes')).toHaveText('1 times');
  const [client] = await clients(page);
  const updates = client.calls.filter((c) => c.method === 'updateToken');
  expect(updates).toHaveLength(1);
  expect(claims(updates[0].token!).jti).not.toBe(claims(first).jti);
  expect(claims(updates[0].token!).grants.identity).toBe('refresh@example.com');
});

test('tokenExpired makes a new client with a fresh token', async ({ page, server }) => {
  await signUpAndVerify(page, server, 'expired@example.com');
  await expect.poll(async () => (await clients(page)).length).toBe(1);
  const first = (await clients(page))[0].token;
  await nextSecondAfter(page, first);
  await emit(page, 'tokenExpired');
  await expect.poll(async () => (await clients(page)).length).toBe(2);
  const [old, fresh] = await clients(page);
  expect(old.isShutdown).toBe(true);
  expect(claims(fresh.token).jti).not.toBe(claims(first).jti);
  expect(claims(fresh.token).grants.identity).toBe('expired@example.com');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
});

test.describe('after logging out in another tab', () => {
  test.use({ allowedStatuses: [401] });

  test('tokenAboutToExpire shows the signed-out state and calls no updateToken', async ({ page, server }) => {
    await signUpAndVerify(page, server, 'twotabs@example.com');
    await expect.poll(async () => (await clients(page)).length).toBe(1);
    const other = await page.context().newPage();
    // The home page has no bundle: its log-out button is a plain form post.
    await other.goto(server.url + '/');
    await other.getByRole('button', { name: 'Log out' }).click();
    await expect(other.getByRole('navigation').getByRole('link', { name: 'Log in' })).toBeVisible();
    await other.close();

    await emit(page, 'tokenAboutToExpire');
    await expect(page.getByTestId('signed-out')).toBeVisible();
    await expect(page.getByTestId('signed-out').getByRole('link', { name: 'Log in again' })).toHaveAttribute(
      'href',
      '/login?next=/chat',
    );
    const [client] = await clients(page);
    expect(client.calls.filter((c) => c.method === 'updateToken')).toHaveLength(0);
    expect(client.isShutdown).toBe(true);
  });
});

test.describe('with the real Twilio SDK', () => {
  // Offline, the real SDK logs its failed connection attempts; uncaught errors still fail.
  test.use({ realSdk: true, allowConsoleErrors: true });

  test('the bundle loads from chatpass and the page shows it is not connected', async ({ page, server }) => {
    const sdkResponses: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/vendor/twilio-conversations.min.js')) sdkResponses.push(r.status());
    });
    await signUpAndVerify(page, server, 'real@example.com');
    await expect.poll(() => sdkResponses).toEqual([200]);
    await expect.poll(() => page.evaluate(() => typeof (window as any).Twilio?.Conversations?.Client)).toBe('function');
    await expect(page.getByTestId('token-identity')).toHaveText('real@example.com');
    const state = page.getByTestId('connection-state');
    await expect(state).not.toHaveAttribute('data-state', 'connected', { timeout: 5000 });
    await expect(state).toHaveAttribute('data-state', /^(connecting|disconnected|retrying|denied|error)$/);
    await expect(state).toHaveText(/Connecting to Twilio|Disconnected|Cannot reach Twilio|refused|failed/);
    // Offline, the SDK reports "Socket error: undefined": the page says it in words.
    const error = page.getByTestId('chat-error');
    await expect(error).toContainText('Twilio could not be reached', { timeout: 30_000 });
    expect(await error.textContent()).not.toMatch(/undefined|\[object/);
  });
});

test('the chat page passes an accessibility scan and works 390 px wide', async ({ page, server }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signUpAndVerify(page, server, 'a11y@example.com');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.getByLabel('Conversation name').fill('mobile');
  await page.getByRole('button', { name: 'Join or create' }).click();
  await page.getByLabel('Message', { exact: true }).fill('typed on a phone');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('messages')).toContainText('typed on a phone');
});

test('every page carries the security headers', async ({ page, server }) => {
  for (const p of ['/', '/login', '/signup', '/healthz']) {
    const response = await page.request.get(server.url + p);
    const h = response.headers();
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
  }
  const html = await page.request.get(server.url + '/login');
  const csp = html.headers()['content-security-policy'];
  const nonce = csp.match(/'nonce-([^']+)'/)![1];
  expect(await html.text()).toContain(`nonce="${nonce}"`);
  expect(csp).toContain('wss://*.twilio.com');
});
