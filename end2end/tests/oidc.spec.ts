// Sign-in with the team's OpenID provider, in Chromium, through the real provider's own
// pages: panva's `oidc-provider` (tests/oidc/provider.mjs) on a loopback port.
import { test as base, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { ChatpassServer } from './fixtures';

const PROVIDER = path.resolve(__dirname, '..', '..', 'tests', 'oidc', 'provider.mjs');

/** A port nothing listens on now: chatpass's, so the provider can be told its callback first. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

type Provider = { issuer: string; client_id: string; client_secret: string; proc: ChildProcess };

async function startProvider(config: object): Promise<Provider> {
  const proc = spawn('node', [PROVIDER], {
    env: { ...process.env, OIDC_FIXTURE_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`the provider exited with ${code}`)));
  });
  return { ...JSON.parse(line), proc };
}

const test = base.extend<{ pair: { server: ChatpassServer; provider: Provider } }>({
  pair: async ({}, use) => {
    const port = await freePort();
    const provider = await startProvider({
      redirect_uris: [`http://127.0.0.1:${port}/auth/oidc/callback`],
      post_logout_redirect_uris: [`http://127.0.0.1:${port}/`],
      accounts: [{ sub: 'u-ann', email: 'ann@example.com', email_verified: true }],
    });
    const server = await ChatpassServer.start({
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      CHATPASS_OIDC_ISSUER: provider.issuer,
      CHATPASS_OIDC_CLIENT_ID: provider.client_id,
      CHATPASS_OIDC_CLIENT_SECRET: provider.client_secret,
      CHATPASS_OIDC_NAME: 'Acme SSO',
    });
    await expect.poll(async () => (await fetch(server.url + '/readyz')).status, { timeout: 20_000 }).toBe(200);
    await use({ server, provider });
    await server.stop();
    server.cleanup();
    provider.proc.stdin!.end();
  },
});

test("sign in through the provider's page, land on /chat, get a token for the linked account", async ({ page, pair }) => {
  const { server, provider } = pair;
  await page.goto(server.url + '/login?next=/chat');
  await page.getByRole('link', { name: 'Sign in with Acme SSO' }).click();
  // The provider's own login page, then its consent page.
  await expect(page).toHaveURL(new RegExp('^' + provider.issuer));
  await page.locator('input[name="login"]').fill('u-ann');
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').click();
  if (page.url().startsWith(provider.issuer)) {
    await page.locator('button[type="submit"]').click();
  }
  await expect(page).toHaveURL(server.url + '/chat');
  const answer = await page.request.post(server.url + '/api/chat_token', { headers: { Origin: server.url } });
  expect(answer.status()).toBe(200);
  expect((await answer.json()).identity).toBe('ann@example.com');
});
