// What a page really loads of the bundle: opens each URL in Chromium (Debian's, as the
// browser tests do), waits until every island has hydrated, and prints the /pkg/ files
// (WebAssembly and JavaScript) the page fetched, as JSON. bench/run.py weighs them.
//
//   node bench/page_weight.mjs BASE_URL COOKIE PATH...
// COOKIE is `name=value` (or `-` for none), sent with every page.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = createRequire(path.join(root, 'end2end/package.json'))('@playwright/test');

const [base, cookie, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const out = {};
try {
  for (const p of paths) {
    const context = await browser.newContext();
    if (cookie !== '-') {
      const [name, ...value] = cookie.split('=');
      await context.addCookies([{ name, value: value.join('='), url: base }]);
    }
    // The Twilio SDK is not ours and is weighed on its own; keep it off the network.
    await context.route('**/vendor/**', (route) => route.fulfill({ body: '', contentType: 'text/javascript' }));
    const page = await context.newPage();
    const fetched = new Set();
    page.on('requestfinished', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/pkg/') && /\.(wasm|js)$/.test(url.pathname)) fetched.add(url.pathname);
    });
    await page.goto(base + p);
    await page.locator('body[data-hydrated="true"]').waitFor({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    out[p] = [...fetched].sort();
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
