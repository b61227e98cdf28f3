import { test, expect, signUpAndVerify, ChatpassServer, SmtpSink, PASSWORD, waitForMailLink } from './fixtures';
import type { Browser, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

const NEW_PASSWORD = 'a brand new long passphrase';

/** Logs in from a browser context of its own and opens /account; the page. */
async function signedInElsewhere(browser: Browser, server: ChatpassServer, email: string, password = PASSWORD): Promise<Page> {
  const other = await (await browser.newContext()).newPage();
  await other.goto(server.url + '/login?next=/account');
  await expect(other.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await other.getByLabel('Email').fill(email);
  await other.getByLabel('Password').fill(password);
  await other.getByRole('button', { name: 'Log in' }).click();
  await expect(other).toHaveURL(server.url + '/account');
  await expect(other.getByTestId('account-email')).toHaveText(email);
  return other;
}

/** The other context reloads its page and finds itself signed out (sent to log in). */
async function expectSignedOut(other: Page, server: ChatpassServer): Promise<void> {
  await other.reload();
  await expect(other).toHaveURL(server.url + '/login?next=/account');
  await expect(other.getByTestId('signed-in-as')).toHaveCount(0);
}

test('forgot password: the mail from a real SMTP server sets a new password, signs in, and signs the other browser out', async ({ page, browser }) => {
  const sink = await SmtpSink.start();
  const server = await ChatpassServer.start({ CHATPASS_SMTP_URL: sink.url, CHATPASS_MAIL_FROM: 'Chat <chat@example.com>' });
  try {
    await signUpAndVerify(page, server, 'forgetful@example.com', sink.dir);
    const other = await signedInElsewhere(browser, server, 'forgetful@example.com');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(server.url + '/login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await expect(page).toHaveURL(server.url + '/forgot');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Email').fill('forgetful@example.com');
    await page.getByRole('button', { name: 'Mail me a link' }).click();
    await expect(page.getByTestId('check-inbox')).toBeVisible();

    await page.goto(await waitForMailLink(sink.dir, 'forgetful@example.com', '/reset'));
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page).toHaveURL(server.url + '/chat');
    await expect(page.getByTestId('signed-in-as')).toHaveText('forgetful@example.com');

    await expectSignedOut(other, server);
    await other.getByLabel('Email').fill('forgetful@example.com');
    await other.getByLabel('Password').fill(NEW_PASSWORD);
    await other.getByRole('button', { name: 'Log in' }).click();
    await expect(other).toHaveURL(server.url + '/account');
    await other.context().close();
    // Stop this server only once the page has loaded what it fetches (its lazy island).
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  } finally {
    await server.stop();
    server.cleanup();
    await sink.stop();
  }
});

test.describe('on the account page', () => {
  // A wrong password is answered 401, which the browser logs.
  test.use({ allowedStatuses: [401] });

  test('change the password: this browser stays signed in, the other one is signed out', async ({ page, browser, server }) => {
    await signUpAndVerify(page, server, 'changer@example.com');
    const other = await signedInElsewhere(browser, server, 'changer@example.com');

    await page.getByTestId('signed-in-as').click();
    await expect(page).toHaveURL(server.url + '/account');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.getByTestId('account-email')).toHaveText('changer@example.com');
    await expect(page.getByTestId('account-verified')).toHaveText('Yes');
    await expect(page.getByTestId('account-created')).toHaveText(/^\d{4}-\d{2}-\d{2}$/);

    await page.getByLabel('Current password').fill('not my password at all');
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password' })).toBeVisible();
    await expect(page.getByTestId('password-changed')).toBeHidden();

    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByTestId('password-changed')).toBeVisible();
    await page.reload();
    await expect(page.getByTestId('account-email')).toHaveText('changer@example.com');

    await expectSignedOut(other, server);
    await other.context().close();
  });

  test('delete the account: a wrong password deletes nothing; the right one signs out and frees the address', async ({ page, server }) => {
    await signUpAndVerify(page, server, 'leaver@example.com');
    await page.goto(server.url + '/account');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Your password, to confirm').fill('not my password at all');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password' })).toBeVisible();
    await page.reload();
    await expect(page.getByTestId('account-email')).toHaveText('leaver@example.com');

    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Your password, to confirm').fill(PASSWORD);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await expect(page).toHaveURL(server.url + '/?deleted=1');
    await expect(page.getByTestId('account-deleted')).toBeVisible();
    await expect(page.getByTestId('signed-in-as')).toHaveCount(0);
    await page.goto(server.url + '/account');
    await expect(page).toHaveURL(server.url + '/login?next=/account');

    // The address can sign up again.
    await signUpAndVerify(page, server, 'leaver@example.com');
  });
});

test('the account, forgot and reset pages pass an accessibility scan and fit 320 px', async ({ page, server }) => {
  await page.setViewportSize({ width: 320, height: 700 });
  await signUpAndVerify(page, server, 'a-rather-long-address.for-wrapping@example-company.example');
  for (const route of ['/account', '/forgot', '/reset?token=x']) {
    await page.goto(server.url + route);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.map((v) => `${route} ${v.id}: ${v.help}`)).toEqual([]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${route} fits`).toBeLessThanOrEqual(0);
  }
});
