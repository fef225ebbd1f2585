// Takes docs/images/two-tenants.png: two tenants' reset pages side by side, from a running
// demo. Usage (from the repository root, with `cargo run` running):
//   NODE_PATH=$PWD/tests/browser/node_modules node tests/readme/screenshot.mjs http://127.0.0.1:8080
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.NODE_PATH
  ? `${process.env.NODE_PATH}/playwright-core`
  : '../browser/node_modules/playwright-core');

const base = process.argv[2] ?? 'http://127.0.0.1:8080';
const pages = [
  ['Acme Shop', `${base}/reset?client_id=acme-shop-ios&locale=fr`, '#0a7cff'],
  ['Northbank', `${base}/reset?client_id=northbank-mobile`, '#ffffff'],
];
// The example tenants' logo URLs are fictitious hosts: answer them with a wordmark so the
// picture shows what a real logo would look like (nothing else is stubbed).
const wordmark = (name, color) => `<svg xmlns="http://www.w3.org/2000/svg" width="180" height="40">
  <text x="0" y="29" font-family="Helvetica, Arial, sans-serif" font-size="26" font-weight="700"
    fill="${color}">${name}</text></svg>`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-background-networking'],
});
const shots = [];
for (const [name, url, color] of pages) {
  const page = await browser.newPage({ viewport: { width: 560, height: 720 }, deviceScaleFactor: 1 });
  await page.route(/^https:\/\/[^/]*\.example\//, (route) =>
    route.fulfill({ contentType: 'image/svg+xml', body: wordmark(name, color) }));
  await page.goto(url, { waitUntil: 'networkidle' });
  shots.push((await page.screenshot()).toString('base64'));
  await page.close();
}
const board = await browser.newPage({ viewport: { width: 1180, height: 760 } });
await board.setContent(`<body style="margin:0;background:#d9dde3;display:flex;gap:20px;padding:20px">
  ${shots.map((s) => `<img style="box-shadow:0 2px 10px rgba(0,0,0,.2)" src="data:image/png;base64,${s}">`).join('')}
</body>`);
writeFileSync('docs/images/two-tenants.png', await board.screenshot());
await browser.close();
console.log('wrote docs/images/two-tenants.png');
