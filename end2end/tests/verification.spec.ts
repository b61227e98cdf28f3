import { test, expect, signUpAndVerify, ChatpassServer, SmtpSink, PASSWORD } from './fixtures';
import type { Page } from '@playwright/test';

// The chat page of an unconfirmed account gets 403 from /api/chat_token on purpose.
test.use({ allowedStatuses: [403] });

function claims(token: string): any {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

async function fakeClients(page: Page): Promise<{ token: string }[]> {
  return page.evaluate(() => ((window as any).__fakeTwilio?.clients ?? []).map((c: any) => ({ token: c.token })));
}

test('sign up, read the mail from a real SMTP server, open the link, confirm, and chat as that email', async ({ page }) => {
  const sink = await SmtpSink.start();
  const server = await ChatpassServer.start({ CHATPASS_SMTP_URL: sink.url, CHATPASS_MAIL_FROM: 'Chat <chat@example.com>' });
  try {
    await signUpAndVerify(page, server, 'mailed@example.com', sink.dir);
    await expect(page.getByTestId('token-identity')).toHaveText('mailed@example.com');
    await expect.poll(async () => (await fakeClients(page)).length).toBe(1);
    const [client] = await fakeClients(page);
    expect(claims(client.token).grants.identity).toBe('mailed@example.com');
    // With real mail the sign-up page does not talk about mail files.
    await page.goto(server.url + '/signup');
    await expect(page.getByTestId('outbox-notice')).toHaveCount(0);
    // Stop this server only once the page has loaded what it fetches (its lazy island).
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  } finally {
    await server.stop();
    server.cleanup();
    await sink.stop();
  }
});

test('an unconfirmed account can log in but gets no token: the chat page asks to confirm and sends the link again', async ({ page, server }) => {
  await page.goto(server.url + '/signup');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Email').fill('later@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('check-inbox')).toBeVisible();

  await page.goto(server.url + '/login?next=/chat');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Email').fill('later@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(server.url + '/chat');
  await expect(page.getByTestId('confirm-email')).toBeVisible();
  await expect(page.getByTestId('confirm-email')).toContainText('Confirm your email');
  await expect(page.getByTestId('token-identity')).toHaveText('–');
  expect(await fakeClients(page)).toEqual([]);

  const first = await server.verificationLink('later@example.com');
  await page.getByRole('button', { name: 'Send the link again' }).click();
  await expect(page.getByTestId('resend-status')).toHaveText(/^Sent\./);
  await expect.poll(() => server.verificationLink('later@example.com')).not.toBe(first);

  // The newest link works; the chat then starts with a token.
  await page.goto(await server.verificationLink('later@example.com'));
  await page.getByRole('button', { name: 'Confirm my email' }).click();
  await expect(page).toHaveURL(server.url + '/chat');
  await expect(page.getByTestId('token-identity')).toHaveText('later@example.com');
  await expect(page.getByTestId('confirm-email')).toHaveCount(0);
});

test('a used link shows a page that says so and offers a way to a new one', async ({ page, browser, server }) => {
  await signUpAndVerify(page, server, 'once@example.com');
  const link = await server.verificationLink('once@example.com');
  const other = await browser.newPage();
  await other.goto(link);
  await other.getByRole('button', { name: 'Confirm my email' }).click();
  await expect(other.getByTestId('verify-refused')).toContainText('This link does not work');
  await expect(other.getByRole('link', { name: 'Log in' }).last()).toHaveAttribute('href', '/login?next=/chat');
  await other.close();
});
