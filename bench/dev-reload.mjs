// The development loop, measured: starts `make dev` (cargo leptos watch), opens the home
// page in Chromium, changes a sentence in src/pages/home.rs, and times how long it takes
// until the open page shows the new sentence by itself (cargo-leptos rebuilds, restarts
// the server, and the page's live-reload script reloads it). Restores the file after.
//
//   node bench/dev-reload.mjs [rounds]      (from the repository root; needs end2end's npm packages)
//
// Prints one line per round and the median. The first `make dev` compiles the whole app in
// debug mode once (minutes); that is waited for, not counted.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const PAGE = path.join(ROOT, 'src', 'pages', 'home.rs');
const SENTENCE = 'Sign in, and the chat page fetches a Twilio Access Token for you: ';
const URL = 'http://127.0.0.1:3000/';
const rounds = Number(process.argv[2] ?? 3);

const original = readFileSync(PAGE, 'utf8');
if (!original.includes(SENTENCE)) throw new Error(`${PAGE} no longer holds the sentence this script edits`);

const dev = spawn('make', ['dev'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
const log = [];
dev.stdout.on('data', (d) => log.push(String(d)));
dev.stderr.on('data', (d) => log.push(String(d)));
const stop = () => {
  writeFileSync(PAGE, original);
  try {
    process.kill(-dev.pid, 'SIGINT');
  } catch {}
};
process.on('exit', stop);
process.on('SIGINT', () => process.exit(130));

async function until(what, check, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}\n${log.join('').slice(-3000)}`);
}

const answers = async () => {
  try {
    return (await fetch(URL)).ok;
  } catch {
    return false;
  }
};

await until('make dev to serve the first build', answers, 20 * 60_000);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
const page = await browser.newPage();
const cspErrors = [];
page.on('console', (m) => {
  if (m.type() === 'error') cspErrors.push(m.text());
});
// The home page has no islands (it loads no WebAssembly); its live-reload script is
// plain JavaScript that runs once the page has loaded.
await page.goto(URL, { waitUntil: 'load' });
// Let the live-reload socket connect before the first edit.
await new Promise((r) => setTimeout(r, 1000));

const times = [];
for (let round = 1; round <= rounds; round++) {
  const marker = `Reload check ${round}-${Date.now()}. `;
  const started = Date.now();
  writeFileSync(PAGE, original.replace(SENTENCE, marker + SENTENCE));
  await page.waitForFunction((m) => document.body.innerText.includes(m.trim()), marker, { timeout: 10 * 60_000 });
  const seconds = (Date.now() - started) / 1000;
  times.push(seconds);
  console.log(`round ${round}: saved -> page shows the change in ${seconds.toFixed(1)} s`);
  await page.waitForLoadState('load');
  await new Promise((r) => setTimeout(r, 1000));
}
writeFileSync(PAGE, original);
times.sort((a, b) => a - b);
console.log(`median of ${rounds}: ${times[Math.floor(times.length / 2)].toFixed(1)} s`);
if (cspErrors.length) console.log(`console errors seen:\n${cspErrors.join('\n')}`);
await browser.close();
process.exit(0);
