import { test, expect, signUpAndVerify, ChatpassServer, SmtpSink, PASSWORD } from './fixtures';
import type { Page } from '@playwright/test';

// The chat page of an unconfirmed account gets 403 from /api/chat_token on purpose.
test.use({ allowedStatuses: [400, 403, 409] });

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

test('sign-up asks only for the email; the link\'s page asks for the password, refuses a weak one, and that password logs in', async ({ page, browser, server }) => {
  await page.goto(server.url + '/signup');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByLabel('Password')).toHaveCount(0);
  await page.getByLabel('Email').fill('later@example.com');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('check-inbox')).toBeVisible();

  await page.goto(await server.verificationLink('later@example.com'));
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await expect(page.locator('#field-password-error')).toHaveText('Passwords are at least 8 characters.');
  await expect(page.getByTestId('signed-in-as')).toHaveCount(0);
  // The link still works with a good password, and lands on the chat with a token.
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Display name').fill('Later');
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await expect(page).toHaveURL(server.url + '/chat');
  await expect(page.getByTestId('token-identity')).toHaveText('later@example.com');
  await expect(page.getByTestId('token-display-name')).toHaveText('Later');
  await expect(page.getByTestId('confirm-email')).toHaveCount(0);

  // The password chosen there is the account's.
  const other = await browser.newPage();
  await other.goto(server.url + '/login');
  await expect(other.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await other.getByLabel('Email').fill('later@example.com');
  await other.getByLabel('Password').fill(PASSWORD);
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other).toHaveURL(server.url + '/chat');
  await other.close();
});

test('a used link says the email is already confirmed and offers to log in, with no session', async ({ page, browser, server }) => {
  await signUpAndVerify(page, server, 'once@example.com');
  const link = await server.verificationLink('once@example.com');
  const other = await browser.newPage();
  await other.goto(link);
  await expect(other.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await other.getByLabel('Password').fill('an attacker passphrase');
  await other.getByRole('button', { name: 'Confirm and sign in' }).click();
  await expect(other.getByTestId('verify-already')).toContainText('already confirmed');
  await expect(other.getByTestId('verify-already').getByRole('link', { name: 'Log in' })).toHaveAttribute('href', '/login');
  await expect(other.getByTestId('signed-in-as')).toHaveCount(0);
  await other.close();
});
