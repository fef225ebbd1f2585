// Drives headless Chromium through the console (run by crates/web/tests/web/console.rs, which
// starts the real server with the admin API and the console, the provider simulator and the
// SMTP sink). The acceptance, in order:
//   - a product owner signs in with a tenant-editor key, sees only their app, raises
//     min_length, sees the preview's rule text change, introduces an unknown key and sees it
//     marked at the right line and column, fixes it, publishes with a comment; the live reset
//     page enforces the new length; they roll back; the live page follows;
//   - they cannot open, preview or publish another tenant (URL and API); a write without the
//     CSRF token, or with an ended session, changes nothing;
//   - a platform admin onboards a new app through the console and its reset page works;
//   - axe-core finds no violation on any console screen; no CSP violation is logged.
// Env: BASE_URL, MAIL_URL, SCREENSHOT_DIR, CHROMIUM, EDITOR_KEY, ADMIN_KEY, SIM_URL, SHOT
// (where the README's screenshot goes).
import { chromium } from 'playwright-core';
import path from 'node:path';
import { axeViolations } from './axe.mjs';
import { lastLink as mailboxLink } from './mailbox.mjs';

const BASE = process.env.BASE_URL;
const MAIL = process.env.MAIL_URL;
const OUT = process.env.SCREENSHOT_DIR;
const failures = [];
function check(ok, message) {
  if (!ok) { failures.push(message); console.log('FAIL ' + message); } else { console.log('ok   ' + message); }
}

function lastLink(email, previous) {
  return mailboxLink(MAIL, email, previous);
}

async function audit(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  const violations = await axeViolations(page, name);
  check(violations.length === 0, `${name}: axe-core finds no violation`);
}

function watch(page, name, problems) {
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) { problems.push(`${name}: ${msg.text()}`); }
  });
  page.on('pageerror', (err) => problems.push(`${name}: script error ${err.message}`));
}

async function waitFor(fn, arg, what, timeout = 10000) {
  try {
    await fn(arg, timeout);
    return true;
  } catch (e) {
    console.log(`timed out waiting for ${what}`);
    return false;
  }
}

async function signIn(context, key, tag, problems) {
  const page = await context.newPage();
  watch(page, tag, problems);
  await page.goto(`${BASE}/console/`);
  await audit(page, `${tag}-sign-in`);
  await page.fill('#key', key);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return page;
}

// The text of the preview frame's rules list (the frame is sandboxed: read through CDP).
async function previewRules(page) {
  const frame = page.frames().find((f) => f !== page.mainFrame());
  if (!frame) return '';
  return frame.evaluate(() => (document.querySelector('#pg-rules') || document.body || { textContent: '' }).textContent).catch(() => '');
}

async function waitPreview(page, text) {
  for (let i = 0; i < 100; i++) {
    if ((await previewRules(page)).includes(text)) return true;
    await page.waitForTimeout(100);
  }
  console.log(`preview rules: ${await previewRules(page)}`);
  return false;
}

async function status(page, text) {
  return waitFor((t, timeout) => page.waitForFunction((s) => document.getElementById('status').textContent.includes(s), t, { timeout }), text, `status "${text}"`);
}

async function startReset(browser, client, email, problems, tag) {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  watch(page, tag, problems);
  const res = await page.goto(`${BASE}/reset?client_id=${client}`);
  check(res.status() === 200, `${tag}: the reset page of ${client} serves`);
  const before = await (await fetch(`${MAIL}?to=${encodeURIComponent(email)}`)).text();
  await page.fill('#email', email);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  await page.goto(await lastLink(email, before));
  check(await page.$('#password') !== null, `${tag}: the new-password form opens from the mailed link`);
  return { context, page };
}

async function submitPassword(page, password) {
  await page.fill('#password', password);
  await page.fill('#password_confirm', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, args: ['--no-sandbox'] });
const problems = [];
try {
  // ---- the product owner ----
  const po = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await signIn(po, process.env.EDITOR_KEY, 'po', problems);
  const apps = await page.$$eval('#apps a', (as) => as.map((a) => a.textContent));
  check(apps.length === 1 && apps[0] === 'Vault', `the product owner sees only their app (${apps.join(', ')})`);
  await audit(page, 'po-home');
  await Promise.all([page.waitForNavigation(), page.click('#apps a')]);
  check(page.url().endsWith('/console/tenants/vault'), 'the editor opens');
  check(await waitFor((_, timeout) => page.waitForFunction(() => document.getElementById('problems-summary').textContent.startsWith('No errors'), null, { timeout }), null, 'first validation'), 'the active YAML validates');
  check(await waitPreview(page, 'At least 12 characters'), 'the preview lists the rule "At least 12 characters"');
  check(await page.$eval('#preview', (f) => f.getAttribute('sandbox') === ''), 'the preview frame is sandboxed without scripts or origin');
  await audit(page, 'po-editor');
  // A tablet, portrait: the editor and the preview stack.
  await page.setViewportSize({ width: 820, height: 1180 });
  await audit(page, 'po-editor-tablet');
  const stacked = await page.evaluate(() => {
    const [a, b] = document.querySelectorAll('.workspace > .pane');
    return b.getBoundingClientRect().top >= a.getBoundingClientRect().bottom;
  });
  check(stacked, 'on a tablet the preview sits below the editor');
  await page.setViewportSize({ width: 1440, height: 1000 });

  // A test email goes only where the sender rules allow.
  await page.fill('#test-to', 'someone@elsewhere.example');
  await page.click('#test-send');
  check(await waitFor((_, timeout) => page.waitForFunction(() => document.getElementById('test-result').textContent.startsWith('Not sent'), null, { timeout }), null, 'test email refusal'), 'a test email to an address nobody allowed is refused, with the reason');

  // The rule test bench decides like the server, for the YAML being edited.
  await page.fill('#bench-password', 'short one');
  check(await waitFor((_, timeout) => page.waitForFunction(() => [...document.querySelectorAll('#bench-rules li.unmet')].some((li) => li.textContent.includes('12')), null, { timeout }), null, 'bench unmet'), 'the bench marks "at least 12 characters" unmet for a short password');
  await page.fill('#bench-password', 'violet kestrel harbour');
  check(await waitFor((_, timeout) => page.waitForFunction(() => document.getElementById('bench-summary').textContent.startsWith('Accepted') && !document.querySelector('#bench-rules li.unmet'), null, { timeout }), null, 'bench accepted'), 'the bench accepts a long password');
  await page.click('#bench-add');
  check((await page.textContent('#bench-summary')).includes('JavaScript rule'), 'adding an example explains that examples belong to the script rule');
  await page.fill('#bench-password', '');

  // Completion and key help from the tenant JSON Schema.
  const start = await page.inputValue('#yaml');
  await page.$eval('#yaml', (t) => { const at = t.value.indexOf('min_length: 12') + 'min_length: 12'.length; t.focus(); t.setSelectionRange(at, at); });
  await page.keyboard.press('Enter');
  await page.keyboard.type('  m');
  await page.keyboard.press('Control+Space');
  const suggested = await page.$$eval('#completions li code', (codes) => codes.map((c) => c.textContent));
  check(suggested.includes('max_length') && suggested.includes('min_strength') && !suggested.includes('min_length'), `Ctrl+Space suggests the policy's missing keys starting with "m" (${suggested.join(', ')})`);
  await audit(page, 'po-editor-completion');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Enter');
  await page.keyboard.type('64');
  check((await page.inputValue('#yaml')).includes('\n  max_length: 64'), 'accepting the suggestion writes the key');
  await page.$eval('#yaml', (t) => { const at = t.value.indexOf('min_length'); t.setSelectionRange(at + 2, at + 2); });
  await page.keyboard.press('ArrowRight');
  const about = await page.textContent('#key-help');
  check(about.startsWith('password_policy.min_length:') && about.length > 30, `the key under the caret is explained (${about.slice(0, 80)})`);
  // Hover documentation: the pointer on the key where it is drawn (the highlighted overlay).
  const onKey = await page.$eval('#highlight', (pre) => {
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const at = n.textContent.indexOf('min_length');
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(n, at + 3); range.setEnd(n, at + 4);
      const r = range.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    }
    return null;
  });
  check(onKey !== null, 'the overlay draws the min_length key');
  await page.mouse.move(onKey.x, onKey.y);
  const tip = page.locator('#hover-doc');
  await tip.waitFor({ state: 'visible', timeout: 3000 }).catch(() => {});
  const hovered = (await tip.isVisible()) ? await tip.textContent() : '';
  check(hovered.startsWith('password_policy.min_length:') && hovered.length > 30, `hovering a key shows its documentation (${hovered.slice(0, 80)})`);
  await page.mouse.move(onKey.x + 600, onKey.y);
  check(!(await tip.isVisible()), 'the documentation goes when the pointer leaves the key');
  await page.fill('#yaml', start);

  // Raise min_length; the preview follows.
  const original = await page.inputValue('#yaml');
  const raised = original.replace('min_length: 12', 'min_length: 14');
  await page.fill('#yaml', raised);
  check(await waitPreview(page, 'At least 14 characters'), 'the preview rule text follows the raised min_length');

  // An unknown key is marked at its line and column.
  const lines = raised.split('\n');
  const at = lines.findIndex((l) => l.startsWith('display_name:')) + 1;
  lines.splice(at, 0, 'colour: teal');
  await page.fill('#yaml', lines.join('\n'));
  const line = at + 1;
  const marked = await waitFor((l, timeout) => page.waitForFunction((n) => {
    const items = [...document.querySelectorAll('#problems .problem')];
    return items.some((b) => b.dataset.line === String(n) && b.dataset.column === '1' && /colour/.test(b.textContent));
  }, l, { timeout }), line, 'the unknown key problem');
  check(marked, `the unknown key "colour" is listed at line ${line}, column 1`);
  check(await page.$(`#gutter .ln.mark-error[data-line="${line}"]`) !== null, `the gutter marks line ${line}`);
  await page.screenshot({ path: process.env.SHOT, fullPage: false });
  await audit(page, 'po-editor-problem');
  // The problem button moves the caret there.
  await page.click(`#problems .problem[data-line="${line}"]`);
  const caretLine = await page.$eval('#yaml', (t) => t.value.slice(0, t.selectionStart).split('\n').length);
  check(caretLine === line, `the problem's button puts the caret on line ${line} (${caretLine})`);

  // Fix it, see the diff, publish with a comment.
  await page.fill('#yaml', raised);
  check(await waitFor((_, timeout) => page.waitForFunction(() => document.getElementById('problems-summary').textContent.startsWith('No errors'), null, { timeout }), null, 'fixed'), 'the fixed YAML validates');
  const diff = await page.textContent('#diff');
  check(diff.includes('- ') && diff.includes('min_length: 12') && diff.includes('min_length: 14'), 'the diff shows the changed line');
  await page.fill('#publish-comment', 'Longer passwords for Vault');
  await page.click('#publish');
  check(await status(page, 'Published version 2'), 'publishing with a comment stores version 2');
  check(await waitFor((_, timeout) => page.waitForFunction(() => document.querySelector('#history li[data-version="2"]') && document.querySelector('#history li[data-version="2"]').textContent.includes('Longer passwords for Vault'), null, { timeout }), null, 'history'), 'the history shows version 2 with its comment');

  // The live reset page enforces 14 characters.
  const live = await startReset(browser, 'vault-app', 'ada@example.com', problems, 'live');
  await submitPassword(live.page, 'Harbour-1987x');
  check(await live.page.$('#password') !== null && (await live.page.textContent('body')).includes('At least 14 characters'), 'the live page refuses 13 characters after the publish');

  // Typing is checked once it pauses (debounced), not on every keystroke.
  let validations = 0;
  const countValidations = (req) => { if (req.url().endsWith('/config/validate')) validations++; };
  page.on('request', countValidations);
  await page.$eval('#yaml', (t) => { t.focus(); t.setSelectionRange(t.value.length, t.value.length); });
  await page.keyboard.type('# reviewed by Vera', { delay: 40 });
  await page.waitForTimeout(1500);
  page.off('request', countValidations);
  check(validations >= 1 && validations <= 2, `18 keystrokes are validated once they pause (${validations} validation calls)`);

  // Someone else publishes meanwhile: nothing is overwritten, their version and diff show.
  const theirs = await page.evaluate(async () => {
    const csrf = document.getElementById('main').dataset.csrf;
    const got = await fetch('/admin/v1/tenants/vault/config');
    const yaml = (await got.text()).replace('token_ttl: 10m', 'token_ttl: 15m');
    const put = await fetch('/admin/v1/tenants/vault/config?comment=colleague', { method: 'PUT', headers: { 'Content-Type': 'application/yaml', 'X-CSRF-Token': csrf, 'If-Match': got.headers.get('ETag') }, body: yaml });
    return put.status;
  });
  check(theirs === 201, `a colleague publishes version 3 (${theirs})`);
  await page.click('#publish');
  check(await waitFor((_, timeout) => page.waitForSelector('#conflict:not([hidden])', { timeout }), null, 'conflict'), 'publishing over a newer version shows the conflict');
  const conflictText = await page.textContent('#conflict');
  check(conflictText.includes('version 3') && conflictText.includes('token_ttl: 15m'), 'the conflict names their version and shows their change');
  const stillTheirs = await page.evaluate(async () => (await fetch('/admin/v1/tenants/vault/config')).headers.get('ETag'));
  check(stillTheirs === '"3"', `their version still serves (${stillTheirs})`);
  await audit(page, 'po-conflict');
  await page.click('#conflict button');
  check((await page.textContent('#diff')).includes('token_ttl: 15m'), 'my edits are now compared with their version');
  await page.click('#publish');
  check(await status(page, 'Published version 4'), 'publishing after reviewing their version stores version 4');

  // A spent budget is explained, not hidden.
  await page.route('**/config/validate', (route) => route.fulfill({ status: 429, headers: { 'Retry-After': '42', 'Content-Type': 'application/problem+json' }, body: '{"type":"urn:passgate:problem:rate-limited","title":"Too many requests","status":429}' }));
  await page.$eval('#yaml', (t) => { t.focus(); t.setSelectionRange(t.value.length, t.value.length); });
  await page.keyboard.type('!');
  check(await status(page, 'wait 42 seconds'), 'a 429 tells the person how long to wait');
  await page.unroute('**/config/validate');

  // Roll back in one step; the live page follows.
  await page.click('#history li[data-version="1"] button.rollback');
  check(await status(page, 'Rolled back'), 'rolling back to version 1');
  check((await page.inputValue('#yaml')).includes('min_length: 12'), 'the editor shows the rolled-back YAML');
  await live.page.goto(`${BASE}/reset/confirm`);
  await submitPassword(live.page, 'Harbour-1987x');
  check(await live.page.$('#password') === null, `the live page accepts 13 characters after the rollback (${live.page.url()})`);
  await live.context.close();

  // Another tenant: refused by URL and by API.
  const other = await page.goto(`${BASE}/console/tenants/northbank`);
  check(other.status() === 403, `opening another tenant's editor by URL is refused (${other.status()})`);
  await audit(page, 'po-denied');
  await page.goto(`${BASE}/console/tenants/vault`);
  await page.waitForFunction(() => document.getElementById('yaml').value.length > 0);
  const api = await page.evaluate(async () => {
    const csrf = document.getElementById('main').dataset.csrf;
    const read = await fetch('/admin/v1/tenants/northbank/config');
    const preview = await fetch('/admin/v1/tenants/northbank/preview', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify({ page: 'request' }) });
    const publish = await fetch('/admin/v1/tenants/northbank/config', { method: 'PUT', headers: { 'Content-Type': 'application/yaml', 'X-CSRF-Token': csrf, 'If-Match': '"1"' }, body: 'id: northbank\n' });
    const own = await fetch('/admin/v1/tenants/vault/config');
    const yaml = await own.text();
    const etag = own.headers.get('ETag');
    const noCsrf = await fetch('/admin/v1/tenants/vault/config', { method: 'PUT', headers: { 'Content-Type': 'application/yaml', 'If-Match': etag }, body: yaml.replace('min_length: 12', 'min_length: 20') });
    const after = await fetch('/admin/v1/tenants/vault/config');
    return { read: read.status, preview: preview.status, publish: publish.status, noCsrf: noCsrf.status, noCsrfType: noCsrf.headers.get('Content-Type'), before: etag, after: after.headers.get('ETag') };
  });
  check(api.read === 403 && api.preview === 403 && api.publish === 403, `another tenant's config, preview and publish are 403 by API (${api.read}, ${api.preview}, ${api.publish})`);
  check(api.noCsrf === 403 && /problem\+json/.test(api.noCsrfType || ''), `a write without the CSRF token is a 403 problem (${api.noCsrf})`);
  check(api.before === api.after, `a write without the CSRF token changes nothing (${api.before} → ${api.after})`);

  // Leaving with unpublished edits asks first.
  const clean = await page.inputValue('#yaml');
  await page.$eval('#yaml', (t) => { t.focus(); t.setSelectionRange(t.value.length, t.value.length); });
  await page.keyboard.type('# draft');
  let asked = null;
  page.once('dialog', (d) => { asked = d.type(); d.dismiss(); });
  await page.close({ runBeforeUnload: true });
  await page.waitForTimeout(500);
  check(asked === 'beforeunload' && !page.isClosed(), `leaving with unpublished edits asks first (${asked})`);
  await page.fill('#yaml', clean);

  // An ended session: sign out, then replay the old cookie with the right CSRF token.
  const cookies = await po.cookies();
  const session = cookies.find((c) => c.name === '__Host-passgate_console');
  const csrf = await page.$eval('#main', (m) => m.dataset.csrf);
  await Promise.all([page.waitForNavigation(), page.click('.sign-out button')]);
  check(await page.$('#key') !== null, 'signing out returns to the sign-in form');
  await po.addCookies([session]);
  const ended = await page.evaluate(async (token) => {
    const own = await fetch('/admin/v1/tenants/vault/config');
    const put = await fetch('/admin/v1/tenants/vault/config', { method: 'PUT', headers: { 'Content-Type': 'application/yaml', 'X-CSRF-Token': token, 'If-Match': '"3"' }, body: 'id: vault\n' });
    return { read: own.status, write: put.status };
  }, csrf);
  check(ended.read === 401 && ended.write === 401, `an ended session reads and writes nothing (${ended.read}, ${ended.write})`);
  await po.close();

  // ---- the platform admin onboards an app ----
  const ops = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const admin = await signIn(ops, process.env.ADMIN_KEY, 'ops', problems);
  await Promise.all([admin.waitForNavigation(), admin.click('a[href="/console/platform"]')]);
  await audit(admin, 'ops-platform');
  await admin.fill('#ob-id', 'shopfront');
  await admin.fill('#ob-name', 'Shopfront');
  await admin.fill('#ob-clients', 'shopfront-ios, shopfront-web');
  await admin.fill('#ob-domain', process.env.SIM_URL);
  await admin.fill('#ob-client', 'sim-client');
  await admin.fill('#ob-secret', 'sim-secret');
  await admin.click('#onboard button[type=submit]');
  const onboarded = await waitFor((_, timeout) => admin.waitForSelector('#onboarded-link', { timeout }), null, 'onboarding');
  if (!onboarded) console.log(await admin.textContent('#onboard-result'));
  check(onboarded, 'the platform admin onboards Shopfront');
  await audit(admin, 'ops-onboarded');
  await admin.fill('#key-label', 'Sam (Shopfront PO)');
  await admin.fill('#key-tenants', 'shopfront');
  await admin.click('#key-create button[type=submit]');
  check(await waitFor((_, timeout) => admin.waitForSelector('#new-key', { timeout }), null, 'key'), 'a product owner key is minted and shown once');
  const minted = await admin.textContent('#new-key');
  const prefix = minted.slice(0, 10);
  check(await waitFor((p, timeout) => admin.waitForSelector(`#keys button:has-text("Revoke ${p}")`, { timeout }), prefix, 'key row'), 'the new key is listed by its prefix only');
  await admin.click(`#keys button:has-text("Revoke ${prefix}")`);
  check(await status(admin, `Key ${prefix} revoked`), 'revoking the key from the list');
  await admin.reload();
  check(await waitFor((_, timeout) => admin.waitForFunction(() => [...document.querySelectorAll('#audit td')].some((td) => td.textContent === 'tenant.create'), null, { timeout }), null, 'audit'), 'the audit log shows the onboarding');
  await admin.fill('#sd-tenant', 'shopfront');
  await admin.click('#sd-load');
  check(await waitFor((_, timeout) => admin.waitForFunction(() => document.getElementById('senders-result').textContent.includes('domain(s)'), null, { timeout }), null, 'senders'), 'sender domains load for the new app');
  const shop = await startReset(browser, 'shopfront-ios', 'grace@example.com', problems, 'shopfront');
  await submitPassword(shop.page, 'violet kestrel harbour 1987 lantern');
  check(await shop.page.$('#password') === null, `the new app's reset completes (${shop.page.url()})`);
  await shop.context.close();
  await ops.close();
} catch (e) {
  check(false, `walk stopped: ${e.stack || e}`);
} finally {
  await browser.close();
}
for (const p of problems) { check(false, p); }
if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log('console walk: all checks passed');
