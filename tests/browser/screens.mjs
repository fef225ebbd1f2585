// Looks at the demo's screens as people see them: every example tenant's request, sent,
// code and new-password pages and every mail at a phone (390×844) and a desktop
// (1280×800) viewport, plus Swagger UI at /admin/docs. Fails on horizontal overflow, a
// broken image, a CSP violation, or Swagger UI not rendering the admin API.
//
// Usage: node screens.mjs BASE_URL SCREENSHOT_DIR   (BASE_URL: a running `passgate demo`)
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const BASE = process.argv[2];
const OUT = process.argv[3];
const VIEWPORTS = [{ name: 'phone', width: 390, height: 844 }, { name: 'desktop', width: 1280, height: 800 }];
const TENANTS = [
  { name: 'acme-shop', client: 'acme-shop-ios', email: 'ada@acme-shop.example.com' },
  { name: 'fitlife', client: 'fitlife-ios', email: 'ada@fitlife.example.com' },
  { name: 'northbank', client: 'northbank-mobile', email: 'ada@northbank.example.com' },
  { name: 'riverline', client: 'riverline-ios', email: 'alan@riverline.example.com' },
];
fs.mkdirSync(OUT, { recursive: true });

const failures = [];
function check(ok, message) {
  if (!ok) { failures.push(message); console.log('FAIL ' + message); }
}

function watch(page, tag) {
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) { check(false, `${tag}: ${msg.text()}`); }
  });
}

async function look(page, tag) {
  await page.screenshot({ path: path.join(OUT, `${tag}.png`), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `${tag}: ${overflow}px horizontal overflow`);
  const broken = await page.evaluate(() => Array.from(document.images)
    .filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src));
  check(broken.length === 0, `${tag}: broken images ${broken.join(', ')}`);
  const bodyFont = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
  check(!/mono|courier/i.test(bodyFont), `${tag}: the whole page is monospace (${bodyFont})`);
  console.log(`ok ${tag}`);
}

async function mails(to) {
  const list = await (await fetch(`${BASE}/dev/mailbox.json`)).json();
  return list.filter((m) => m.to.includes(to));
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  for (const vp of VIEWPORTS) {
    for (const t of TENANTS) {
      const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height } });
      const page = await context.newPage();
      const tag = `${t.name}-${vp.name}`;
      watch(page, tag);
      await page.goto(`${BASE}/reset?client_id=${t.client}`);
      await look(page, `${tag}-1-request`);
      const before = (await mails(t.email)).length;
      await page.fill('#email', t.email);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      await look(page, `${tag}-2-${await page.evaluate(() => document.body.className.split(' ')[1])}`);
      let mail;
      for (let i = 0; i < 100 && !mail; i++) {
        const got = await mails(t.email);
        if (got.length > before) { mail = got[0]; } else { await new Promise((r) => setTimeout(r, 100)); }
      }
      check(mail, `${tag}: a mail`);
      if (mail) {
        const mp = await context.newPage();
        watch(mp, `${tag}-mail`);
        await mp.setContent(mail.html);
        await look(mp, `${tag}-3-mail`);
        const link = (mail.text.match(/http:\/\/\S+\/reset\/confirm\?token=\S+/) || [])[0];
        if (link) {
          await page.goto(link);
          await look(page, `${tag}-4-new-password`);
        }
      }
      await context.close();
    }
    const context = await browser.newContext({ viewport: { width: vp.width, height: vp.height } });
    const page = await context.newPage();
    watch(page, `docs-${vp.name}`);
    await page.goto(`${BASE}/admin/docs`);
    let title = '';
    try {
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 20000 });
      title = await page.textContent('.swagger-ui .info .title');
      await page.waitForSelector('.opblock', { timeout: 20000 });
    } catch (e) { /* reported below */ }
    check(title.includes('Passgate admin API'), `docs-${vp.name}: Swagger UI shows the admin API (${title})`);
    check((await page.$$('.opblock')).length > 5, `docs-${vp.name}: operations listed`);
    await page.screenshot({ path: path.join(OUT, `docs-${vp.name}.png`) });
    console.log(`ok docs-${vp.name}`);
    await context.close();
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log('all screens ok');
