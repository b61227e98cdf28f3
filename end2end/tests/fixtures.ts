// Test fixtures: every test gets its own chatpass process (the real release binary)
// on a free port with a throw-away SQLite database, and fails on any console error or
// uncaught page error.
import { test as base, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.CHATPASS_BIN ?? path.join(ROOT, 'target', 'release', 'chatpass');
const SITE_ROOT = process.env.LEPTOS_SITE_ROOT ?? path.join(ROOT, 'target', 'site');

export class ChatpassServer {
  url = '';
  private proc?: ChildProcess;
  readonly logs: string[] = [];

  private constructor(
    readonly dir: string,
    private addr: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts chatpass with a fresh database in a new temporary directory. */
  static async start(env: Record<string, string> = {}): Promise<ChatpassServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'chatpass-e2e-'));
    const server = new ChatpassServer(dir, '127.0.0.1:0', env);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const proc = spawn(BIN, ['serve'], {
      cwd: this.dir,
      env: {
        PATH: process.env.PATH ?? '',
        RUST_LOG: 'info',
        DATABASE_URL: `sqlite://${this.dir}/chatpass.db`,
        LEPTOS_SITE_ADDR: this.addr,
        LEPTOS_SITE_ROOT: SITE_ROOT,
        // A live-mode test has no Twilio to call: account changes must not reach the real one.
        ...(this.env.CHATPASS_TWILIO_API_URL ? {} : { CHATPASS_TWILIO_SYNC: 'off' }),
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    proc.stderr!.on('data', (chunk) => this.logs.push(String(chunk)));
    const lines = readline.createInterface({ input: proc.stdout! });
    const listening = new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        this.logs.push(line);
        const match = line.match(/listening on http:\/\/(\S+)/);
        if (match) resolve(match[1]);
      });
      proc.on('exit', (code) =>
        reject(new Error(`chatpass exited with ${code} before listening:\n${this.logs.join('\n')}`)),
      );
    });
    this.addr = await listening;
    this.url = `http://${this.addr}`;
  }

  /** SIGTERM, and wait for the process to exit. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.on('exit', resolve));
    proc.kill('SIGTERM');
    await exited;
  }

  /** Stops and starts again on the same address and database. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The newest /verify link mailed to `email`, from the file outbox beside the database. */
  async verificationLink(email: string): Promise<string> {
    return waitForLink(path.join(this.dir, 'outbox'), email);
  }

  /** The newest /reset link mailed to `email`, from the file outbox beside the database. */
  async resetLink(email: string): Promise<string> {
    return waitForMailLink(path.join(this.dir, 'outbox'), email, '/reset');
  }
}

/** The mails in a directory (the file outbox, or the SMTP sink's), oldest first. */
export function mailsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.eml'))
    .sort((a, b) => a.length - b.length || a.localeCompare(b))
    .map((name) => readFileSync(path.join(dir, name), 'utf8'));
}

/** Waits for a mail to `email` in `dir` holding a /verify link; returns the newest such link. */
export async function waitForLink(dir: string, email: string, timeoutMs = 20_000): Promise<string> {
  return waitForMailLink(dir, email, '/verify', timeoutMs);
}

/** Waits for a mail to `email` in `dir` holding a `{route}?token=` link; returns the newest such link. */
export async function waitForMailLink(dir: string, email: string, route: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const wanted = new RegExp(`^https?://[^/]+${route.replace(/[/]/g, '\\/')}\\?token=`);
  for (;;) {
    const links = mailsIn(dir)
      .filter((mail) => new RegExp(`^To: .*${email.replace(/[.+]/g, '\\$&')}`, 'mi').test(mail))
      .flatMap((mail) => mail.split(/\s+/).filter((word) => wanted.test(word)));
    if (links.length > 0) return links[links.length - 1];
    if (Date.now() > deadline) throw new Error(`no ${route} mail to ${email} in ${dir}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A real SMTP server (aiosmtpd, tests/smtp/sink.py) on a free loopback port. */
export class SmtpSink {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly proc: ChildProcess,
  ) {}

  static async start(): Promise<SmtpSink> {
    const dir = mkdtempSync(path.join(tmpdir(), 'chatpass-smtp-'));
    const python = path.join(ROOT, '.tools', 'smtp-venv', 'bin', 'python');
    const proc = spawn(python, [path.join(ROOT, 'tests', 'smtp', 'sink.py'), dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: proc.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      lines.once('line', (line) => {
        const match = line.match(/^PORT (\d+)$/);
        if (match) resolve(Number(match[1]));
        else reject(new Error(`sink said ${line}`));
      });
      proc.on('exit', (code) => reject(new Error(`SMTP sink exited with ${code}`)));
    });
    return new SmtpSink(dir, port, proc);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((resolve) => this.proc.on('exit', resolve));
    this.proc.stdin!.end();
    this.proc.kill('SIGTERM');
    await exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const PASSWORD = 'correct horse battery staple';

/**
 * Signs up in the browser (the email only), reads the verification mail from `mailDir`
 * (the server's file outbox unless given), opens its link, chooses the password (and the
 * display name) on its page, and lands on /chat signed in.
 */
export async function signUpAndVerify(
  page: Page,
  server: ChatpassServer,
  email: string,
  mailDir?: string,
  options: { displayName?: string } = {},
): Promise<void> {
  await page.goto(server.url + '/signup');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Email').fill(email);
  await expect(page.getByLabel('Password')).toHaveCount(0);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('check-inbox')).toBeVisible();
  await expect(page.getByTestId('signed-in-as')).toHaveCount(0);
  const link = mailDir ? await waitForLink(mailDir, email) : await server.verificationLink(email);
  await page.goto(link);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Password').fill(PASSWORD);
  if (options.displayName !== undefined) await page.getByLabel('Display name').fill(options.displayName);
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await expect(page).toHaveURL(server.url + '/chat');
  await expect(page.getByTestId('signed-in-as')).toHaveText(email);
}

const FAKE_SDK = path.join(__dirname, '..', 'fake', 'twilio-conversations.fake.js');

type Fixtures = {
  server: ChatpassServer;
  /** Extra environment for the server under test. */
  serverEnv: Record<string, string>;
  /** Serve Twilio's real SDK bundle instead of the recording fake (default: the fake). */
  realSdk: boolean;
  /** Ignore console errors (a page error still fails the test). */
  allowConsoleErrors: boolean;
  pageErrors: string[];
  /** HTTP statuses a test expects the page to get (the browser logs each as a console error). */
  allowedStatuses: number[];
};

/** Records console errors and uncaught exceptions of a page into `errors`. */
export function watchErrors(page: Page, errors: string[]): void {
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
}

export const test = base.extend<Fixtures>({
  serverEnv: [{}, { option: true }],
  server: async ({ serverEnv }, use) => {
    const server = await ChatpassServer.start(serverEnv);
    await use(server);
    await server.stop();
    server.cleanup();
  },
  allowedStatuses: [[], { option: true }],
  realSdk: [false, { option: true }],
  allowConsoleErrors: [false, { option: true }],
  page: async ({ page, realSdk }, use) => {
    if (!realSdk) {
      await page.context().route('**/vendor/twilio-conversations.min.js', (route) =>
        route.fulfill({ path: FAKE_SDK, contentType: 'text/javascript' }),
      );
    }
    await use(page);
  },
  pageErrors: [
    // Depends on `server` so that the server stops only after the errors are checked: a
    // page still open when it stops (an island that has just hydrated and is fetching)
    // would otherwise log a refused connection that says nothing about the app.
    async ({ page, server: _server, allowedStatuses, allowConsoleErrors }, use) => {
      const errors: string[] = [];
      watchErrors(page, errors);
      await use(errors);
      const unexpected = errors.filter((e) => {
        if (allowConsoleErrors && e.startsWith('console:')) return false;
        const status = e.match(/Failed to load resource: the server responded with a status of (\d+)/);
        return !(status && allowedStatuses.includes(Number(status[1])));
      });
      expect(unexpected, 'no console or page errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
