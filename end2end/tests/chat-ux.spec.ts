// The chat page as people use it, against the recording stand-in for Twilio's SDK
// (end2end/fake): display names, unread counts, typing, history, reconnecting, errors in
// words. Everything of chatpass's own is real: the server, its database, the WASM page.
import { test, expect, mailsIn, signUpAndVerify, PASSWORD, type ChatpassServer } from './fixtures';
import type { Page } from '@playwright/test';
import path from 'node:path';

const BO = 'bo@example.com';
const CY = 'cy@example.com';

/** Runs `fn` against the fake SDK's test side (window.__fakeTwilio). */
function fake<T, A = undefined>(page: Page, fn: (t: any, arg: A) => T, arg?: A): Promise<T> {
  return page.evaluate(([source, a]) => new Function('t', 'a', `return (${source})(t, a)`)((window as any).__fakeTwilio, a), [
    fn.toString(),
    arg,
  ] as [string, any]) as Promise<T>;
}

async function ready(page: Page, server: ChatpassServer, email: string, displayName?: string) {
  await signUpAndVerify(page, server, email, undefined, { displayName });
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
}

async function openListed(page: Page, name: string) {
  await page.getByTestId('conversations').getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await expect(page.getByRole('heading', { name: `Messages in ${name}` })).toBeVisible();
}

async function setVisibility(page: Page, state: 'hidden' | 'visible') {
  await page.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { value: s, configurable: true });
    Object.defineProperty(document, 'hidden', { value: s === 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

const messages = (page: Page) => page.getByTestId('messages').locator('li');

test('the display name chosen on the link\'s page becomes the Twilio friendly name, and authors show by name beside their identity', async ({ page, server }) => {
  await ready(page, server, 'ana@example.com', 'Ana ✨ López');
  await expect(page.getByTestId('token-display-name')).toHaveText('Ana ✨ López');
  await expect.poll(() => fake(page, (t) => t.callsOf('updateFriendlyName'))).toEqual([['Ana ✨ López']]);

  await fake(page, (t, a) => {
    t.addUser(a.bo, 'Bo');
    t.addUser(a.cy, '');
    t.addUser('markup@example.com', '<img src=x onerror="window.__pwned=1">');
    t.addUser('huge@example.com', 'H'.repeat(10_000));
    t.seed('general', {
      participants: [a.bo, a.cy, 'markup@example.com', 'huge@example.com'],
      messages: 10,
    });
  }, { bo: BO, cy: CY });
  await openListed(page, 'general');
  await expect(messages(page)).toHaveCount(10);
  const authors = await page.getByTestId('messages').locator('.author').allTextContents();
  expect(new Set(authors)).toEqual(
    new Set(['Ana ✨ López', 'Bo', CY, '<img src=x onerror="window.__pwned=1">', 'H'.repeat(63) + '…']),
  );
  // Beside every name, who it really is: a friendly name cannot pass for another account.
  await expect(page.getByTestId('participants')).toContainText(`Bo (${BO})`);
  const ids = await page.getByTestId('messages').locator('.author-id').allTextContents();
  expect(new Set(ids)).toEqual(new Set(['ana@example.com', BO, 'markup@example.com', 'huge@example.com']));
  expect(await page.locator('#content img').count()).toBe(0);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  // One lookup per identity, not one per message; the own name is known without one.
  const asked = (await fake(page, (t) => t.callsOf('getUser'))).map((args: string[]) => args[0]);
  expect(asked.sort()).toEqual([BO, CY, 'huge@example.com', 'markup@example.com']);

  // The account page changes the name; the next chat page hands it to Twilio.
  await page.goto(server.url + '/account');
  await page.getByLabel('Display name').fill('Ana L.');
  await page.getByRole('button', { name: /display name/i }).click();
  await expect(page.getByTestId('account-display-name')).toHaveText('Ana L.');
  await page.goto(server.url + '/chat');
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('token-display-name')).toHaveText('Ana L.');
  await expect.poll(() => fake(page, (t) => t.callsOf('updateFriendlyName'))).toEqual([['Ana L.']]);
});

test('without a display name the email local part is used; a refused friendly-name update is said in words', async ({ page, server }) => {
  await page.addInitScript(() => {
    (window as any).__fakeTwilioSetup = (t: any) =>
      t.failNext('updateFriendlyName', Object.assign(new Error('Forbidden'), { code: 50400 }));
  });
  await ready(page, server, 'dee.dee@example.com');
  await expect(page.getByTestId('token-display-name')).toHaveText('dee.dee');
  await expect(page.getByTestId('chat-error')).toContainText('Showing your display name to others failed.');
  await expect(page.getByTestId('chat-error')).toContainText('not allowed');
  // Chat still works; the user shows as their identity.
  await page.getByLabel('Conversation name').fill('lobby');
  await page.getByRole('button', { name: 'Join or create' }).click();
  await page.getByLabel('Message', { exact: true }).fill('still here');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(messages(page)).toHaveText([/dee\.dee@example\.com.*still here/]);
});

test('message bodies with markup, 50 KB, right-to-left text and emoji show as text and fit 320 px', async ({ page, server }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  await ready(page, server, 'bodies@example.com');
  await fake(page, (t, bo) => t.seed('room', { participants: [bo] }), BO);
  await openListed(page, 'room');
  const bodies = ['<script>window.__pwned=1</script><b>bold?</b>', 'x'.repeat(50_000), 'مرحبا بالعالم — שלום', '👋🏽 héllo 🇫🇷'];
  await fake(page, (t, a) => a.bodies.forEach((b: string) => t.receive('room', a.bo, b)), { bo: BO, bodies });
  await expect(messages(page)).toHaveCount(4);
  const shown = await page.getByTestId('messages').locator('.body').allTextContents();
  expect(shown).toEqual(bodies);
  expect(await page.getByTestId('messages').locator('b, script').count()).toBe(0);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  await expect(page.getByTestId('messages').locator('.body').first()).toHaveAttribute('dir', 'auto');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test('history: the newest page on open, older pages on demand, 500 messages without a duplicate', async ({ page, server }) => {
  await ready(page, server, 'history@example.com');
  await fake(page, (t, a) => t.seed('long', { participants: [a.bo, a.cy], messages: 500 }), { bo: BO, cy: CY });
  await openListed(page, 'long');
  await expect(messages(page)).toHaveCount(30);
  await expect(messages(page).last()).toContainText('message 499');
  // Scrolling to the top loads the page before.
  await page.getByTestId('messages').evaluate((ul) => ul.scrollTo(0, 0));
  await expect(messages(page)).toHaveCount(60);
  const older = page.getByRole('button', { name: 'Load older messages' });
  while ((await messages(page).count()) < 500) {
    const before = await messages(page).count();
    await older.click();
    await expect(messages(page)).not.toHaveCount(before);
  }
  await expect(older).toHaveCount(0);
  const indexes = await messages(page).evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-index'))));
  expect(indexes).toEqual(Array.from({ length: 500 }, (_, i) => i));
  // Three authors, three lookups at most (the own name needs none).
  expect((await fake(page, (t) => t.callsOf('getUser'))).length).toBeLessThanOrEqual(2);
});

test('a message that arrives while history loads shows once', async ({ page, server }) => {
  await ready(page, server, 'meanwhile@example.com');
  await fake(page, (t, bo) => t.seed('busy', { participants: [bo], messages: 40 }), BO);
  await fake(page, (t) => t.holdPages());
  await openListed(page, 'busy');
  await fake(page, (t, bo) => t.receive('busy', bo, 'arrived meanwhile'), BO);
  await expect(messages(page).filter({ hasText: 'arrived meanwhile' })).toHaveCount(1);
  await fake(page, (t) => t.releasePages());
  await expect(messages(page)).toHaveCount(30);
  await expect(messages(page).filter({ hasText: 'arrived meanwhile' })).toHaveCount(1);
  await expect(messages(page).last()).toContainText('arrived meanwhile');
});

test('unread counts: other conversations count up, opening one marks it read, a hidden tab does not', async ({ page, server }) => {
  await ready(page, server, 'unread@example.com');
  await fake(page, (t, bo) => {
    t.seed('main', { participants: [bo], messages: 2 });
    t.seed('side', { participants: [bo], messages: 2 });
  }, BO);
  const badge = (name: string) =>
    page.getByTestId('conversations').getByRole('button', { name: new RegExp(`^${name}`) }).getByTestId('unread');
  await openListed(page, 'side');
  await expect.poll(() => fake(page, (t) => t.callsOf('setAllMessagesRead'))).toEqual([['side']]);
  await openListed(page, 'main');
  await fake(page, (t, bo) => {
    t.receive('side', bo, 'psst');
    t.receive('side', bo, 'psst again');
  }, BO);
  await expect(badge('side')).toHaveText('2 unread');
  await expect(badge('main')).toHaveCount(0);

  await openListed(page, 'side');
  await expect(badge('side')).toHaveCount(0);

  // Hidden: a message to the open conversation stays unread until the tab is seen.
  await setVisibility(page, 'hidden');
  const readsBefore = (await fake(page, (t) => t.callsOf('setAllMessagesRead'))).length;
  await fake(page, (t, bo) => t.receive('side', bo, 'while away'), BO);
  await expect(badge('side')).toHaveText('1 unread');
  expect((await fake(page, (t) => t.callsOf('setAllMessagesRead'))).length).toBe(readsBefore);
  await setVisibility(page, 'visible');
  await expect(badge('side')).toHaveCount(0);
  expect((await fake(page, (t) => t.callsOf('setAllMessagesRead'))).length).toBe(readsBefore + 1);
});

test('typing: told to Twilio at most every few seconds; others typing shown by name; a leaver never', async ({ page, server }) => {
  await page.clock.install();
  await ready(page, server, 'typist@example.com');
  await fake(page, (t, a) => {
    t.addUser(a.bo, 'Bo');
    t.addUser(a.cy, 'Cy');
    t.seed('chatty', { participants: [a.bo, a.cy] });
  }, { bo: BO, cy: CY });
  await openListed(page, 'chatty');
  const box = page.getByLabel('Message', { exact: true });
  await box.pressSequentially('hello there');
  await expect.poll(() => fake(page, (t) => t.callsOf('typing').length)).toBe(1);
  await page.clock.fastForward(3500);
  await box.pressSequentially('!');
  await expect.poll(() => fake(page, (t) => t.callsOf('typing').length)).toBe(2);

  await fake(page, (t, bo) => t.startTyping('chatty', bo), BO);
  await expect(page.getByTestId('typing')).toHaveText('Bo is typing…');
  await fake(page, (t, cy) => t.startTyping('chatty', cy), CY);
  await expect(page.getByTestId('typing')).toHaveText('Bo and Cy are typing…');
  await fake(page, (t, bo) => t.stopTyping('chatty', bo), BO);
  await expect(page.getByTestId('typing')).toHaveText('Cy is typing…');
  await fake(page, (t, cy) => t.leave('chatty', cy), CY);
  await expect(page.getByTestId('typing')).toHaveText('');
  await expect(page.getByTestId('participants')).not.toContainText('Cy');
  // Cy has left: a late typingStarted for them shows nothing.
  await fake(page, (t, cy) => t.startTyping('chatty', cy), CY);
  await fake(page, (t, bo) => t.receive('chatty', bo, 'sync point'), BO);
  await expect(messages(page).filter({ hasText: 'sync point' })).toHaveCount(1);
  await expect(page.getByTestId('typing')).toHaveText('');
});

test('every shape of SDK error reads as words, never "undefined" or "[object Object]"', async ({ page, server }) => {
  await ready(page, server, 'errors@example.com');
  const error = page.getByTestId('chat-error');
  const cases: [string, string, RegExp][] = [
    ['new Error("boom")', 'connectionError', /Connecting to Twilio failed\. Twilio said: “boom”/],
    ['({ code: 20104, message: "Access Token expired or expiration date invalid" })', 'connectionError', /token has expired.*Twilio error 20104/],
    ['({ terminal: true, message: "Invalid Access Token", errorCode: 20101 })', 'connectionError', /not valid.*Twilio error 20101/],
    ['({ message: "Invalid Access Token signature", code: 20107 })', 'connectionError', /API secret does not belong to its API key/],
    ['({ message: "Access token expired after refresh", code: 20157 })', 'connectionError', /expired before a fresh one reached Twilio/],
    ['"a plain string"', 'connectionError', /Twilio said: “a plain string”/],
    ['undefined', 'connectionError', /without saying what it was/],
    ['({})', 'connectionError', /without saying what it was/],
    ['"Socket error: undefined"', 'connectionError', /Twilio could not be reached/],
    ['({ error: { terminal: true, message: "Invalid Access Token", errorCode: 20101 } })', 'initFailed', /Starting the chat failed\. .*not valid/],
    ['({})', 'initFailed', /Starting the chat failed\. Twilio reported an error without saying/],
  ];
  for (const [payload, event, words] of cases) {
    await page.evaluate(([p, e]) => {
      const value = new Function(`return ${p}`)();
      (window as any).__fakeTwilio.clients.at(-1).emit(e, value);
    }, [payload, event]);
    await expect(error, `${event} ${payload}`).toHaveText(words);
    const text = (await error.textContent()) ?? '';
    expect(text).not.toMatch(/undefined|\[object/);
    // Demo mode says that a refusal is expected.
    expect(text).toContain('expected in demo mode');
  }
});

test('connection states are said in words', async ({ page, server }) => {
  await ready(page, server, 'states@example.com');
  const line = page.getByTestId('connection-state');
  const states: [string, RegExp][] = [
    ['denied', /Twilio refused the token, as expected in demo mode/],
    ['disconnected', /Disconnected\. chatpass reconnects when the network returns/],
    ['error', /connection to Twilio failed/],
    ['connecting', /Connecting to Twilio/],
    ['nonsense', /Connection state unknown/],
    ['connected', /^Connected\.$/],
  ];
  for (const [state, words] of states) {
    await page.evaluate((s) => (window as any).__fakeTwilio.clients.at(-1).emit('connectionStateChanged', s), state);
    await expect(line).toHaveText(words);
  }
});

test('offline and back online: a disconnected client is replaced with a new token and client', async ({ page, server }) => {
  await ready(page, server, 'offline@example.com');
  await page.getByLabel('Conversation name').fill('kept');
  await page.getByRole('button', { name: 'Join or create' }).click();
  await expect(page.getByRole('heading', { name: 'Messages in kept' })).toBeVisible();
  await page.context().setOffline(true);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'offline');
  await expect(page.getByTestId('connection-state')).toHaveText(/Offline/);
  await page.evaluate(() => (window as any).__fakeTwilio.clients.at(-1).emit('connectionStateChanged', 'disconnected'));
  await page.context().setOffline(false);
  await expect.poll(() => page.evaluate(() => (window as any).__fakeTwilio.clients.length)).toBe(2);
  const shutdown = await page.evaluate(() => (window as any).__fakeTwilio.clients.map((c: any) => c.isShutdown));
  expect(shutdown).toEqual([true, false]);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('token-refreshes')).toHaveText('1 times');
  // The open conversation is open again on the new client.
  await expect.poll(() => fake(page, (t) => t.callsOf('getMessages').length)).toBe(2);
  await expect(page.getByRole('heading', { name: 'Messages in kept' })).toBeVisible();
});

test('back online while still connected with a good token: nothing is replaced', async ({ page, server }) => {
  await ready(page, server, 'blip@example.com');
  await page.context().setOffline(true);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'offline');
  await page.context().setOffline(false);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  await page.getByLabel('Conversation name').fill('sync');
  await page.getByRole('button', { name: 'Join or create' }).click();
  await expect(page.getByRole('heading', { name: 'Messages in sync' })).toBeVisible();
  expect(await page.evaluate(() => (window as any).__fakeTwilio.clients.length)).toBe(1);
});

test('a tab hidden for longer than the token lives gets a new token and client when seen again', async ({ page, server }) => {
  await page.clock.install();
  await ready(page, server, 'sleepy@example.com');
  await setVisibility(page, 'hidden');
  await page.clock.fastForward('02:00:00');
  await expect(page.getByTestId('token-countdown')).toHaveText('expired');
  await setVisibility(page, 'visible');
  await expect.poll(() => page.evaluate(() => (window as any).__fakeTwilio.clients.length)).toBe(2);
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('token-countdown')).toHaveText(/^(59m|1h 00m)/);
  const [old, fresh] = await page.evaluate(() => (window as any).__fakeTwilio.clients.map((c: any) => [c.isShutdown, c.token]));
  expect(old[0]).toBe(true);
  expect(fresh[0]).toBe(false);
});

test('demo mode shows why Twilio refuses the token, and what the token carries', async ({ page, server }) => {
  await ready(page, server, 'demo@example.com', 'Demo Person');
  await expect(page.getByTestId('demo-banner')).toContainText('Twilio will refuse it');
  for (const name of ['TWILIO_ACCOUNT_SID', 'TWILIO_API_KEY', 'TWILIO_API_SECRET', 'TWILIO_CHAT_SERVICE_SID']) {
    await expect(page.getByTestId('demo-banner')).toContainText(name);
  }
  const header = JSON.parse((await page.getByTestId('token-header').textContent()) ?? '');
  expect(header).toEqual({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });
  const claimsText = (await page.getByTestId('token-claims').textContent()) ?? '';
  expect(claimsText).toContain('\n  "grants": {\n    "identity": "demo@example.com"');
  const claims = JSON.parse(claimsText);
  expect(Object.keys(claims)).toEqual(['jti', 'grants', 'iat', 'exp', 'iss', 'sub']);
  expect(claims.exp - claims.iat).toBe(3600);
  await expect(page.getByTestId('token-header')).toBeVisible();
});

test('a long identity wraps between its parts and nothing overflows at 320 px', async ({ page, server }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  const email = 'a-rather-long.local-part+chat@a-very-long-subdomain.example-organisation.com';
  await ready(page, server, email);
  const identity = page.getByTestId('token-identity');
  await expect(identity).toHaveText(email);
  expect(await identity.locator('wbr').count()).toBeGreaterThan(5);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // Every line break falls after '@', '.', '-', '+' or between parts, never inside a word.
  const lines = await identity.evaluate((dd) => {
    const range = document.createRange();
    const tops = new Map<number, string>();
    for (const node of Array.from(dd.childNodes)) {
      if (node.nodeType !== Node.TEXT_NODE) continue;
      for (let i = 0; i < node.textContent!.length; i++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const top = Math.round(range.getBoundingClientRect().top);
        tops.set(top, (tops.get(top) ?? '') + node.textContent![i]);
      }
    }
    return Array.from(tops.values());
  });
  expect(lines.length).toBeGreaterThan(1);
  lines.slice(1).forEach((line, i) => {
    const breaksAtAPart = /^[@.\-+_]/.test(line) || lines[i].endsWith('-');
    expect(breaksAtAPart, JSON.stringify(lines)).toBe(true);
  });
});

test.describe('bad display names', () => {
  test.use({ allowedStatuses: [400] });

  test('a display name on the link\'s page: too long, control, bidi, markup or posing is refused on the field and uses nothing', async ({ page, server }) => {
    await page.goto(server.url + '/signup');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Email').fill('named@example.com');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByTestId('check-inbox')).toBeVisible();
    await page.goto(await server.verificationLink('named@example.com'));
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const bad: [string, RegExp][] = [
      ['n'.repeat(65), /at most 64 characters/],
      ['Ana\u0007', /control or invisible formatting characters/],
      ['Ana\u202Egnp.exe', /U\+202E/],
      ['<b>Ana</b>', /cannot contain < or >/],
      ['ana@example.com', /cannot be an email address/],
      ['chatpass admin', /reserved/],
    ];
    for (const [name, why] of bad) {
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByLabel('Display name').fill(name);
      await page.getByRole('button', { name: 'Confirm and sign in' }).click();
      await expect(page.locator('#field-display_name-error'), JSON.stringify(name)).toHaveText(why);
      await expect(page.getByLabel('Display name')).toHaveAttribute('aria-invalid', 'true');
      await expect(page.getByTestId('signed-in-as')).toHaveCount(0);
    }
    // Nothing was used: the link still proves the address.
    expect(mailsIn(path.join(server.dir, 'outbox')).length).toBe(1);
    await page.getByLabel('Display name').fill('   ');
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await expect(page.getByTestId('token-display-name')).toHaveText('named');
  });
});

test('a friendly name that already matches the display name is left alone', async ({ page, server }) => {
  await page.addInitScript(() => {
    (window as any).__fakeTwilioSetup = (t: any) => t.addUser('same@example.com', 'Same Name');
  });
  await ready(page, server, 'same@example.com', 'Same Name');
  await page.getByLabel('Conversation name').fill('quiet');
  await page.getByRole('button', { name: 'Join or create' }).click();
  await page.getByLabel('Message', { exact: true }).fill('hi');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(messages(page).locator('.author')).toHaveText(['Same Name']);
  expect(await fake(page, (t) => t.callsOf('updateFriendlyName'))).toEqual([]);
  expect(await fake(page, (t) => t.callsOf('getUser'))).toEqual([]);
});

test('switching conversations while the first one loads shows only the second', async ({ page, server }) => {
  await ready(page, server, 'switcher@example.com');
  await fake(page, (t, bo) => {
    t.seed('first', { participants: [bo], messages: [{ author: bo, body: 'from first' }] });
    t.seed('second', { participants: [bo], messages: [{ author: bo, body: 'from second' }] });
    t.holdPages();
  }, BO);
  await page.getByTestId('conversations').getByRole('button', { name: /^first/ }).click();
  await expect.poll(() => fake(page, (t) => t.callsOf('getMessages').length)).toBe(1);
  await openListed(page, 'second');
  await expect.poll(() => fake(page, (t) => t.callsOf('getMessages').length)).toBe(2);
  await fake(page, (t) => t.releasePages());
  await expect(messages(page)).toHaveText([/from second/]);
  await fake(page, (t, bo) => t.receive('first', bo, 'late in first'), BO);
  // "first" was never shown, so it has no read horizon: both its messages are unread.
  await expect(page.getByTestId('conversations').getByRole('button', { name: /^first/ }).getByTestId('unread')).toHaveText('2 unread');
  await expect(messages(page)).toHaveText([/from second/]);
});

test('a conversation never opened shows all its messages as unread', async ({ page, server }) => {
  await ready(page, server, 'fresh@example.com');
  await fake(page, (t, bo) => t.seed('invited', { participants: [bo], messages: 3 }), BO);
  const badge = page.getByTestId('conversations').getByRole('button', { name: /^invited/ }).getByTestId('unread');
  await expect(badge).toHaveText('3 unread');
  await openListed(page, 'invited');
  await expect(badge).toHaveCount(0);
});

test('after a reconnect the open conversation is found again by its sid, never created anew', async ({ page, server }) => {
  await ready(page, server, 'reopen@example.com');
  await fake(page, (t, bo) => t.seed('proj-x', { participants: [bo], messages: 2, friendlyName: 'Project X' }), BO);
  await openListed(page, 'Project X');
  await page.evaluate(() => (window as any).__fakeTwilio.clients.at(-1).emit('connectionStateChanged', 'disconnected'));
  await page.context().setOffline(true);
  await page.context().setOffline(false);
  await expect.poll(() => page.evaluate(() => (window as any).__fakeTwilio.clients.length)).toBe(2);
  await expect.poll(() => fake(page, (t) => t.callsOf('getConversationBySid').length)).toBe(1);
  await expect(page.getByRole('heading', { name: 'Messages in Project X' })).toBeVisible();
  await expect(messages(page)).toHaveCount(2);
  expect(await fake(page, (t) => t.callsOf('createConversation'))).toEqual([]);
});

test('tokenExpired and waking up at once make one new client, not two', async ({ page, server }) => {
  await page.clock.install();
  await ready(page, server, 'once@example.com');
  await setVisibility(page, 'hidden');
  await page.clock.fastForward('02:00:00');
  await page.evaluate(() => {
    (window as any).__fakeTwilio.clients.at(-1).emit('tokenExpired');
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected');
  await expect(page.getByTestId('token-refreshes')).toHaveText('1 times');
  expect(await page.evaluate(() => (window as any).__fakeTwilio.clients.length)).toBe(2);
});
