import { test, expect, signUpAndVerify } from './fixtures';

const SETTINGS = ['TWILIO_ACCOUNT_SID', 'TWILIO_API_KEY', 'TWILIO_API_SECRET', 'TWILIO_CHAT_SERVICE_SID'];

test('the home page says what chatpass is, that it runs in demo mode and how to make it live, and what to do next', async ({ page, server }) => {
  const fetched: string[] = [];
  page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
  const response = await page.goto(server.url + '/');
  expect(response?.status()).toBe(200);
  // Server-rendered content is there before any script runs.
  await expect(page.getByRole('heading', { name: 'chatpass', level: 1 })).toBeVisible();
  await expect(page.locator('.hero p')).toContainText('Twilio chat behind your own login');
  const mode = page.getByTestId('instance-mode');
  await expect(mode).toHaveAttribute('data-mode', 'demo');
  await expect(mode.getByRole('heading')).toHaveText('This instance runs in demo mode');
  await expect(mode.locator('code')).toHaveText(SETTINGS);
  const next = page.getByTestId('next-step');
  await expect(next.getByRole('link', { name: 'Sign up' })).toHaveAttribute('href', '/signup');
  await expect(next.getByRole('link', { name: 'log in' })).toHaveAttribute('href', '/login');
  // Nothing here is interactive: no WebAssembly, no script of ours, no test aid shown.
  await page.waitForLoadState('load');
  expect(fetched.filter((p) => p.startsWith('/pkg/') && !p.endsWith('.css'))).toEqual([]);
  await expect(page.locator('script[type="module"]')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /live/ })).toHaveCount(0);

  await signUpAndVerify(page, server, 'home@example.com');
  await page.goto(server.url + '/');
  await expect(next).toContainText('home@example.com');
  await expect(next.getByRole('link', { name: 'Open the chat' })).toHaveAttribute('href', '/chat');
  await expect(next.getByRole('link', { name: 'Sign up' })).toHaveCount(0);
});

test.describe('with the four Twilio settings', () => {
  test.use({
    serverEnv: {
      TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
      TWILIO_API_KEY: 'SK0123456789abcdef0123456789abcdef',
      TWILIO_API_SECRET: 'e2e-live-mode-secret-0123456789',
      TWILIO_CHAT_SERVICE_SID: 'IS0123456789abcdef0123456789abcdef',
    },
  });

  test('the home page says the instance is live and lists no settings', async ({ page, server }) => {
    await page.goto(server.url + '/');
    const mode = page.getByTestId('instance-mode');
    await expect(mode).toHaveAttribute('data-mode', 'live');
    await expect(mode.getByRole('heading')).toHaveText('This instance is live');
    await expect(mode.locator('code')).toHaveCount(0);
    expect(await page.content()).not.toContain('e2e-live-mode-secret');
  });
});
