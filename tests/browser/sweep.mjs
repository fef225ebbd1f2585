// Issue 16's sweep (run by crates/web/tests/browser.rs over the example tenants): every
// example tenant × page × state × viewport (390×844, 1280×800) × locale, and every mail
// (HTML). Each screen: axe-core with 0 violations (pages) or none serious/critical (mails),
// no horizontal overflow, no broken image, no CSP violation; a screenshot at
// SCREENSHOT_DIR/<tenant>-<page>-<state>-<viewport>-<locale>.png (CI artefacts).
//
// States: request form, "check your inbox" (link mode) or the code form (code mode), the
// new password (empty, with live violations, with submitted violations), done, the
// invalid-link page for an unknown and for a used link (expired, superseded and malformed
// links get the byte-identical page, pages::every_unusable_link_gives_the_same_page), the
// bad-redirect and stale-form pages, and rate limited (last: it closes the tenant's form).
//
// Env: BASE_URL, MAILS_URL (test-only: every mail for ?to=), SCREENSHOT_DIR, CHROMIUM.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const BASE = process.env.BASE_URL;
const MAILS = process.env.MAILS_URL;
const OUT = process.env.SCREENSHOT_DIR;
const VIEWPORTS = [{ name: 'phone', width: 390, height: 844 }, { name: 'desktop', width: 1280, height: 800 }];
const USERS = ['ada@example.com', 'grace@example.com', 'linus@example.com'];
const TENANTS = [
  { name: 'acme-shop', client: 'acme-shop-ios', locales: ['fr', 'en'], code: false },
  // auth0_ticket: the mailed link goes to Auth0's own page, so Passgate shows no
  // new-password or success page for FitLife.
  { name: 'fitlife', client: 'fitlife-ios', locales: ['de', 'en', 'es'], code: false, ticket: true },
  { name: 'northbank', client: 'northbank-mobile', locales: ['en'], code: true },
  { name: 'riverline', client: 'riverline-ios', locales: ['en', 'es'], code: false },
];
// Strong, unique per reset (the simulated accounts are shared by the tenants).
const passwordFor = (t, locale) => `violet Kestrel ${t.name} harbour 19${locale.charCodeAt(0)} lantern`
  .replace('acme-shop', 'market').replace('fitlife', 'gym').replace('northbank', 'river')
  .replace('riverline', 'tide');

fs.mkdirSync(OUT, { recursive: true });
const failures = [];
let screens = 0;
let mailsChecked = 0;
function check(ok, message) {
  if (!ok) { failures.push(message); console.log('FAIL ' + message); }
}

function watch(page, tag) {
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) { check(false, `${tag()}: ${msg.text()}`); }
  });
}

async function axe(page, name, allowMinor) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  for (const v of result.violations) {
    const blocking = !allowMinor || ['serious', 'critical'].includes(v.impact);
    console.log(`axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes)${blocking ? '' : ' [allowed in mails]'}`);
    for (const n of v.nodes.slice(0, 3)) {
      console.log(`    ${n.target.join(' ')}: ${(n.any[0] && n.any[0].message) || n.failureSummary}`);
    }
    check(!blocking, `${name}: axe ${v.impact} ${v.id}`);
  }
}

// One screen at both viewports: screenshot, layout checks and axe.
async function look(page, name, { mail = false, js = true } = {}) {
  for (const vp of VIEWPORTS) {
    await page.setViewportSize({ width: vp.width, height: vp.height });
    const tag = name.replace('{vp}', vp.name);
    await page.screenshot({ path: path.join(OUT, `${tag}.png`), fullPage: true });
    screens++;
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `${tag}: ${overflow}px horizontal overflow`);
    const broken = await page.evaluate(() => Array.from(document.images)
      .filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src));
    check(broken.length === 0, `${tag}: broken images ${broken.join(', ')}`);
    if (js) { await axe(page, tag, mail); }
  }
}

const shot = (t, page, state, locale) => `${t.name}-${page}-${state}-{vp}-${locale}`;

async function mailsFor(to) {
  return (await fetch(`${MAILS}?to=${encodeURIComponent(to)}`)).json();
}

async function newMail(to, count) {
  for (let i = 0; i < 300; i++) {
    const list = await mailsFor(to);
    if (list.length > count) { return list[list.length - 1]; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail for ${to}`);
}

async function submitAndWait(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

// A whole reset in one tenant and locale, looking at every screen on the way.
async function resetIn(browser, t, locale, email) {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  let where = `${t.name}-${locale}`;
  watch(page, () => where);
  const form = `${BASE}/reset?client_id=${t.client}&locale=${locale}`;

  where = 'request';
  await page.goto(form);
  check(await page.getAttribute('html', 'lang') === locale, `${t.name}-${locale}: request page in ${locale}`);
  await look(page, shot(t, 'request', 'form', locale));

  where = 'bad redirect';
  await page.goto(`${form}&redirect_uri=${encodeURIComponent('https://evil.example/')}`);
  check(await page.$('body.pg-page-bad_redirect') !== null, `${t.name}-${locale}: bad-redirect page`);
  await look(page, shot(t, 'bad_redirect', 'refused', locale));

  where = 'stale form';
  await page.goto(form);
  await page.fill('#email', email);
  await context.clearCookies();
  await submitAndWait(page, 'button[type=submit]');
  check(await page.$('body.pg-page-stale_form') !== null, `${t.name}-${locale}: stale-form page`);
  await look(page, shot(t, 'stale_form', 'expired', locale));

  where = 'sent';
  const before = (await mailsFor(email)).length;
  await page.goto(form);
  await page.fill('#email', email);
  await submitAndWait(page, 'button[type=submit]');
  const mail = await newMail(email, before);
  let linkOrCode;
  if (t.code) {
    check(await page.$('body.pg-page-code') !== null, `${t.name}-${locale}: code page`);
    await look(page, shot(t, 'code', 'form', locale));
    const code = (mail.text.match(/\b\d{8}\b/) || [])[0];
    check(code, `${t.name}-${locale}: a code in the mail`);
    await page.fill('#code', code || '');
    await submitAndWait(page, 'button[type=submit]');
  } else {
    check(await page.$('body.pg-page-sent') !== null, `${t.name}-${locale}: sent page`);
    await look(page, shot(t, 'sent', 'inbox', locale));
    await page.reload();
    check(await page.$('body.pg-page-sent') !== null, `${t.name}-${locale}: reloading "check your inbox"`);
    await new Promise((r) => setTimeout(r, 300));
    check((await mailsFor(email)).length === before + 1, `${t.name}-${locale}: reloading sent no second mail`);
  }
  if (t.ticket) {
    await context.close();
    await unknownLink(browser, t, locale);
    await looksAtMails(browser, t, locale, email, before, ['reset_ticket']);
    return;
  }
  if (!t.code) {
    linkOrCode = (mail.text.match(/https?:\/\/\S+\/reset\/confirm\?token=\S+/) || [])[0];
    check(linkOrCode && linkOrCode.includes(`client_id=${t.client}`), `${t.name}-${locale}: the link names its app: ${linkOrCode}`);
    await page.goto(linkOrCode);
  }

  where = 'new password';
  check(await page.$('#pg-new-password') !== null, `${t.name}-${locale}: new-password page`);
  check(await page.getAttribute('html', 'lang') === locale, `${t.name}-${locale}: new-password page in ${locale}`);
  await look(page, shot(t, 'new_password', 'empty', locale));
  await page.locator('#password').pressSequentially('password1', { delay: 5 });
  await page.waitForFunction(() => document.querySelector('#pg-rules li[data-state="unmet"]') !== null, null, { timeout: 5000 }).catch(() => {});
  await page.waitForTimeout(600); // the debounced live check
  await look(page, shot(t, 'new_password', 'live_violations', locale));
  await page.fill('#password_confirm', 'password1');
  await submitAndWait(page, 'button[type=submit]');
  check(await page.$('#pg-errors') !== null, `${t.name}-${locale}: submitted violations are listed`);
  await look(page, shot(t, 'new_password', 'violations', locale));

  where = 'done';
  const strong = passwordFor(t, locale);
  await page.fill('#password', strong);
  await page.fill('#password_confirm', strong);
  await submitAndWait(page, 'button[type=submit]');
  check(await page.$('body.pg-page-success') !== null, `${t.name}-${locale}: success page (at ${page.url()})`);
  check(await page.$('body.pg-page-success a.pg-button') !== null, `${t.name}-${locale}: a "back to the app" button`);
  await look(page, shot(t, 'success', 'done', locale));
  await page.reload();
  check(await page.$('body.pg-page-success') !== null, `${t.name}-${locale}: reloading shows the success page again`);

  where = 'used link';
  if (linkOrCode) {
    await page.goto(linkOrCode);
    check(await page.$('body.pg-page-invalid_link a.pg-button') !== null, `${t.name}-${locale}: used link page with a button`);
    await look(page, shot(t, 'invalid_link', 'used', locale));
  }
  await context.close();
  await unknownLink(browser, t, locale);
  await looksAtMails(browser, t, locale, email, before, [t.code ? 'reset_code' : 'reset_link', 'password_changed']);
}

// The invalid-link page for a token nobody issued, with the app parameters a mailed link
// carries, for a browser in English: the app's branding, the reset's locale.
async function unknownLink(browser, t, locale) {
  let where = 'unknown link';
  const unknown = await browser.newContext({ locale: 'en-US' });
  const fresh = await unknown.newPage();
  where = 'unknown link';
  watch(fresh, () => where);
  const resp = await fresh.goto(`${BASE}/reset/confirm?token=${'A'.repeat(43)}&client_id=${t.client}&locale=${locale}`);
  check(resp.status() === 410, `${t.name}-${locale}: unknown link 410`);
  check(await fresh.getAttribute('html', 'lang') === locale, `${t.name}-${locale}: invalid-link page in the reset's locale`);
  check(await fresh.$('body.pg-page-invalid_link a.pg-button') !== null, `${t.name}-${locale}: "Request a new link"`);
  await look(fresh, shot(t, 'invalid_link', 'unknown', locale));
  await unknown.close();
}

// Every mail of one reset (`kinds`, in the order they are sent), as a mail client shows it.
async function looksAtMails(browser, t, locale, email, before, kinds) {
  const mailPage = await browser.newPage();
  let mine = [];
  for (let i = 0; i < 100 && mine.length < kinds.length; i++) {
    mine = (await mailsFor(email)).slice(before);
    if (mine.length < kinds.length) { await new Promise((r) => setTimeout(r, 100)); }
  }
  check(mine.length === kinds.length, `${t.name}-${locale}: mails ${kinds.join(', ')} (got ${mine.length})`);
  for (const [i, m] of mine.slice(0, kinds.length).entries()) {
    await mailPage.setContent(m.html, { waitUntil: 'load' });
    await look(mailPage, `${t.name}-mail-${kinds[i]}-{vp}-${locale}`, { mail: true });
    mailsChecked++;
  }
  await mailPage.close();
}

// Requests until the tenant's per-client limit answers, then the rate-limited page in
// every locale.
async function rateLimited(browser, t) {
  const context = await browser.newContext();
  const page = await context.newPage();
  watch(page, () => `${t.name}-rate-limited`);
  let limited = false;
  for (let i = 0; i < 30 && !limited; i++) {
    await page.goto(`${BASE}/reset?client_id=${t.client}&locale=${t.locales[0]}`);
    await page.fill('#email', `nobody${i}@example.org`);
    await submitAndWait(page, 'button[type=submit]');
    limited = await page.$('body.pg-page-rate_limited') !== null;
  }
  check(limited, `${t.name}: the per-client limit shows the rate-limited page`);
  for (const locale of t.locales) {
    await page.goto(`${BASE}/reset?client_id=${t.client}&locale=${locale}`);
    await page.fill('#email', 'nobody@example.org');
    await submitAndWait(page, 'button[type=submit]');
    check(await page.$('body.pg-page-rate_limited #pg-retry-at') !== null, `${t.name}-${locale}: rate limited, with when to try again`);
    await look(page, shot(t, 'rate_limited', 'client', locale));
  }
  await context.close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-background-networking', '--disable-gpu'],
});
try {
  for (const t of TENANTS) {
    for (const [i, locale] of t.locales.entries()) {
      try { await resetIn(browser, t, locale, USERS[i]); } catch (e) { check(false, `${t.name}-${locale}: ${e && e.stack || e}`); }
    }
    try { await rateLimited(browser, t); } catch (e) { check(false, `${t.name}: rate limit: ${e && e.stack || e}`); }
  }
} finally {
  await browser.close();
}
console.log(`${screens} screens, ${mailsChecked} mails looked at; ${failures.length} failure(s)`);
process.exit(failures.length === 0 ? 0 : 1);
