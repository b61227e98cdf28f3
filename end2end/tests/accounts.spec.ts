import { test, expect, signUpAndVerify, PASSWORD } from './fixtures';
import type { Page } from '@playwright/test';


// Wrong passwords, bad input and a taken email are what these tests try on purpose.
test.use({ allowedStatuses: [400, 401, 409] });

async function hydrated(page: Page) {
  // Forms submit through the WASM bundle only once it has hydrated the page.
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}


test('sign up, log out, log in again, reload, and survive a server restart', async ({ page, server }) => {
  await signUpAndVerify(page, server, 'ann@example.com');
  await expect(page).toHaveURL(server.url + '/chat');

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Log in' })).toBeVisible();
  await expect(page.getByTestId('signed-in-as')).toHaveCount(0);

  await page.goto(server.url + '/login');
  await hydrated(page);
  await page.getByLabel('Email').fill('ann@example.com');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password.' })).toBeVisible();
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('signed-in-as')).toHaveText('ann@example.com');

  await page.reload();
  await expect(page.getByTestId('signed-in-as')).toHaveText('ann@example.com');
  // Let the chat page finish fetching its token before the server goes away.
  await expect(page.getByTestId('token-identity')).toHaveText('ann@example.com');

  await server.restart();
  await page.goto(server.url + '/');
  await expect(page.getByTestId('signed-in-as')).toHaveText('ann@example.com');
});

test('an inline error for a bad email; a taken email gets the same answer as a new one', async ({ page, server }) => {
  await signUpAndVerify(page, server, 'taken@example.com');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Sign up' })).toBeVisible();

  await page.goto(server.url + '/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill('not an email');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#field-email-error')).toHaveText('That is not an email address.');
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Email').fill('TAKEN@example.com');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('check-inbox')).toBeVisible();
  // Where the mail went, on a server without SMTP.
  await expect(page.getByTestId('outbox-notice')).toContainText(server.dir);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('sign up, confirm the email and log in with plain form posts', async ({ page, server }) => {
    await page.goto(server.url + '/signup');
    await page.getByLabel('Email').fill('nojs@example.com');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByTestId('check-inbox')).toBeVisible();
    await page.goto(await server.verificationLink('nojs@example.com'));
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await expect(page.locator('#field-password-error')).toHaveText('Passwords are at least 8 characters.');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await expect(page).toHaveURL(server.url + '/chat');
    await expect(page.getByTestId('signed-in-as')).toHaveText('nojs@example.com');

    await page.getByRole('button', { name: 'Log out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByTestId('signed-in-as')).toHaveCount(0);

    await page.getByLabel('Email').fill('nojs@example.com');
    await page.getByLabel('Password').fill('wrong password!');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByText('Wrong email or password.')).toBeVisible();

    await page.getByLabel('Email').fill('nojs@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByTestId('signed-in-as')).toHaveText('nojs@example.com');
  });
});

test('a login with next=/… lands there, and an off-site next lands home', async ({ page, server }) => {
  await signUpAndVerify(page, server, 'next@example.com');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Log in' })).toBeVisible();
  await page.goto(server.url + '/login?next=https://evil.example/');
  await hydrated(page);
  await page.getByLabel('Email').fill('next@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('signed-in-as')).toHaveText('next@example.com');
  await expect(page).toHaveURL(server.url + '/chat');
  await expect(page.getByTestId('token-identity')).toHaveText('next@example.com');
});

test('an error from a form posted before the page hydrated stays shown once it has', async ({ browser, page, server }) => {
  // A form posted without JavaScript (as one submitted before the bundle loads is) comes
  // back to the page with its error in the URL. The form's island gets that error from
  // the server as a prop; hydrating must keep it on screen, and the form must then work.
  const nojs = await browser.newContext({ javaScriptEnabled: false });
  const plain = await nojs.newPage();
  await plain.goto(server.url + '/signup');
  await plain.getByLabel('Email').fill('not an email');
  await plain.getByRole('button', { name: 'Create account' }).click();
  await expect(plain.locator('#field-email-error')).toHaveText('That is not an email address.');
  const returned = plain.url();
  expect(returned).toContain('__err=');
  await nojs.close();

  await page.goto(returned);
  await hydrated(page);
  await expect(page.locator('#field-email-error')).toHaveText('That is not an email address.');
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Email').fill('late@example.com');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('check-inbox')).toBeVisible();
});
