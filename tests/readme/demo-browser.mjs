// The README's promise, in a real browser: from the demo's printed URLs, tenants complete a
// reset with the mail read from /dev/mailbox — Acme Shop by clicking the link in the mailbox
// page, Northbank by typing the emailed code, and Riverline (moving from Janrain to Auth0)
// once for each of its users: only in Janrain, in both, only in Auth0, through the same
// branded pages; the move's report then says where each was found and served. Last, a
// product owner signs in to the console through the demo's OIDC provider.
// Exits non-zero on any failure.
// Run by crates/passgate/tests/browser_demo.rs:  node tests/readme/demo-browser.mjs BASE KEY
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(new URL('../browser/', import.meta.url));
const { chromium } = require('playwright-core');
const base = process.argv[2];
const adminKey = process.argv[3];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-background-networking'],
});
const mailTo = async (to) => {
  for (let i = 0; i < 300; i++) {
    const list = await (await fetch(`${base}/dev/mailbox.json`)).json();
    const mail = list.find((m) => m.to === to);
    if (mail) return mail;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to}`);
};
const h1 = async (page) => (await page.textContent('h1')).trim();
const submit = async (page) => {
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
};

try {
  // Acme Shop: hosted link.
  const page = await browser.newPage({ locale: 'en-US' });
  await page.goto(`${base}/reset?client_id=acme-shop-ios&locale=en`);
  await page.fill('input[name=email]', 'ada@acme-shop.example.com');
  await submit(page);
  assert.equal(await h1(page), 'Check your inbox');
  await mailTo('ada@acme-shop.example.com');
  await page.goto(`${base}/dev/mailbox`);
  await Promise.all([page.waitForLoadState('load'), page.click(`a[href^="${base}/reset/confirm"]`)]);
  assert.equal(await h1(page), 'Choose a new password');
  for (const input of await page.$$('input[type=password]')) {
    await input.fill('violet kestrel harbour 1987 lantern');
  }
  await submit(page);
  assert.equal(await h1(page), 'Password changed');
  console.log('acme-shop: password changed through the mailed link');

  // Northbank: a code typed into the page.
  await page.goto(`${base}/reset?client_id=northbank-mobile`);
  await page.fill('input[name=email]', 'ada@northbank.example.com');
  await submit(page);
  const code = (await mailTo('ada@northbank.example.com')).text.match(/\b\d{8}\b/)[0];
  await page.fill('input[name=code]', code);
  await submit(page);
  assert.equal(await h1(page), 'Choose a new password');
  for (const input of await page.$$('input[type=password]')) {
    await input.fill('quartz Meridian 7 lighthouse !jackdaw ferns');
  }
  await submit(page);
  assert.equal(await h1(page), 'Password changed');
  console.log('northbank: password changed with the mailed code');

  // Riverline: one tenant, three placements, the same pages and mail for each.
  for (const [email, where] of [
    ['ada@riverline.example.com', 'only in Janrain'],
    ['grace@riverline.example.com', 'in both'],
    ['alan@riverline.example.com', 'only in Auth0'],
  ]) {
    await page.goto(`${base}/reset?client_id=riverline-ios`);
    assert.equal(await page.getAttribute('img.pg-logo', 'alt'), 'Riverline', 'its own brand');
    await page.fill('input[name=email]', email);
    await submit(page);
    assert.equal(await h1(page), 'Check your inbox');
    const mail = await mailTo(email);
    assert.match(mail.subject, /Riverline/, `${email}: the tenant's own subject`);
    const link = mail.text.match(/https?:\/\/\S+\/reset\/confirm\S*/)[0];
    await page.goto(link);
    assert.equal(await h1(page), 'Choose a new password');
    for (const input of await page.$$('input[type=password]')) {
      await input.fill('tidal Ferry 42 morning crossing');
    }
    await submit(page);
    assert.equal(await h1(page), 'Password changed');
    console.log(`riverline: password changed for the user ${where}`);
  }
  const report = await (
    await fetch(`${base}/admin/v1/tenants/riverline/move/report`, {
      headers: { Authorization: `Bearer ${adminKey}` },
    })
  ).json();
  assert.equal(report.source_only, 1, JSON.stringify(report));
  assert.equal(report.both, 1, JSON.stringify(report));
  assert.equal(report.target_only, 1, JSON.stringify(report));
  assert.equal(report.migrated, 1, JSON.stringify(report));
  assert.equal(report.served_by_target, 2, JSON.stringify(report));
  console.log(`riverline: ${report.summary}; ${report.migrated} moved to Auth0 on reset`);

  // The console: "Sign in with Demo SSO" at the simulator's OIDC provider, as the product
  // owner; the session cookie must survive the way back from the provider.
  {
    const page = await browser.newPage({ locale: 'en-US' });
    await page.goto(`${base}/console/`);
    await Promise.all([page.waitForURL(/\/oidc\/authorize/), page.click('#oidc-sign-in')]);
    await page.check('input[value=priya]');
    await Promise.all([
      page.waitForURL(`${base}/console/`),
      page.click('button[value=sign_in]'),
    ]);
    assert.match(await page.textContent('body'), /Priya Patel/);
    assert.ok(await page.$('a[href="/console/tenants/acme-shop"]'), 'her app is listed');
    assert.equal(await page.$('a[href="/console/tenants/northbank"]'), null, 'only hers');
    console.log('console: signed in with Demo SSO as the acme-shop product owner');
    await page.close();
  }
} finally {
  await browser.close();
}
