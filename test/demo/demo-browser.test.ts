// The demo page end to end in a real browser: Debian's Chromium driven by playwright-core (never a
// downloaded browser), against the real service started as a child process in its default
// (development) mode, at a phone's 375×740 viewport, with the keyboard alone. OTP login (a wrong
// code first: the spec's "Invalid OTP."), the claims and the countdown, renew, log out; a password
// set through the page's reset path; password login (a wrong password first). Screenshots go to
// test-results/ (paths printed). Without a Chromium the test is skipped with the reason printed,
// unless AE_REQUIRE_CHROMIUM=1 (.ci/run sets it): then a missing browser fails the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { childEnv, freePort } from '../helpers/process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Background networking, component updates, sync and QUIC all try to reach the internet; on a
// closed network they make Chromium's own connections fail, so they are switched off.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const SKIP = !existsSync(CHROMIUM) && process.env.AE_REQUIRE_CHROMIUM !== '1' ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH; .ci/run installs it)` : false;
if (SKIP) console.log(`demo-browser: skipped: ${SKIP}`);

const ADMIN_TOKEN = 'demo-browser-admin-token-0123456789abcdefghijklmnop';
const SECRETS = {
  AUTH_ADMIN_TOKEN: ADMIN_TOKEN,
  AUTH_SIGNING_SECRET: 'demo-browser-signing-secret-0123456789abcdefghijk',
  AUTH_OTP_SECRET: 'demo-browser-otp-secret-0123456789abcdefghijklmnopq',
};
const BRAND = 'DEMO';
const MOBILE_TYPED = '+91 99999 00001';
const MOBILE = '919999900001';
const PASSWORD = 'Demo-Browser-Passw0rd';
const WIDTH = 375;
const SESSION_KEY = `auth-engine:${BRAND}:web:session`;
const SHOTS = join(ROOT, 'test-results');

let server: ChildProcess | undefined;
let serverExit: Promise<unknown> | undefined;
let serverOutput = '';
let base = '';
let context: BrowserContext | undefined;
let page: Page;
const dirs: string[] = [];
/** Console errors other than failed requests (a wrong code is a 401 the browser logs): CSP violations, script errors. */
const consoleErrors: string[] = [];

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json();
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

async function lastOtp(): Promise<string> {
  const r = await admin('GET', `/admin/v1/outbox?brand=${BRAND}&identifier=${encodeURIComponent(`MOBILE|${MOBILE}`)}&limit=1`);
  const otp = r.messages?.[0]?.otp;
  assert.equal(typeof otp, 'string', 'an OTP in the outbox');
  return otp;
}

async function isActive(token: string): Promise<boolean> {
  const r = await fetch(`${base}/auth/v1/token/introspect`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  return (await r.json()).active === true;
}

const activeId = () => page.evaluate(() => document.activeElement?.id ?? '');
const text = (id: string) => page.locator(`#${id}`).innerText();
const visible = (view: string) => page.waitForSelector(`#view-${view}:not([hidden])`);
const storedToken = () => page.evaluate((k) => JSON.parse(sessionStorage.getItem(k) ?? 'null')?.token ?? null, SESSION_KEY);
const claims = async () => JSON.parse(await text('claims'));

/** Tab (or Shift+Tab) until the element with `id` has the focus: it is reachable by keyboard. */
async function tabTo(id: string, back = false): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if ((await activeId()) === id) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`#${id} not reached with ${back ? 'Shift+Tab' : 'Tab'} (focus on #${await activeId()})`);
}

/** Picks a login mode with the arrow keys inside the radio group, then Tabs back to the identifier. */
async function chooseMode(mode: 'otp' | 'password' | 'reset'): Promise<void> {
  await tabTo('identifier');
  await page.keyboard.press('Shift+Tab'); // the radio group's checked option
  const order = ['otp', 'password', 'reset'];
  for (let i = 0; i < 3 && (await page.evaluate(() => (document.activeElement as HTMLInputElement).value)) !== mode; i++) {
    const now = await page.evaluate(() => (document.activeElement as HTMLInputElement).value);
    await page.keyboard.press(order.indexOf(now) < order.indexOf(mode) ? 'ArrowDown' : 'ArrowUp');
  }
  assert.equal(await page.evaluate(() => (document.querySelector('input[name="mode"]:checked') as HTMLInputElement).value), mode);
  await page.keyboard.press('Tab');
  assert.equal(await activeId(), 'identifier');
}

/** Replaces the focused field's text, by keyboard. */
async function retype(value: string): Promise<void> {
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(value);
}

async function fitsThePhone(): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= WIDTH, `the page is ${width}px wide at a ${WIDTH}px viewport (horizontal scrolling)`);
}

async function screenshot(name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `demo-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`demo-browser: screenshot ${path}`);
}

/** Types the code from the outbox (a wrong one first when asked) and lands on the signed-in view. */
async function enterCode(opts: { wrongFirst?: boolean } = {}): Promise<void> {
  await visible('code');
  assert.equal(await activeId(), 'code', 'focus moves to the code field');
  const otp = await lastOtp();
  if (opts.wrongFirst) {
    const wrong = String((Number(otp[0]) + 1) % 10) + otp.slice(1);
    await page.keyboard.type(wrong);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('error')?.textContent !== '');
    assert.match(await text('error'), /^Invalid OTP\.\s+Code 1506\./);
    assert.equal(await activeId(), 'code', 'focus back on the code, its text selected');
    await fitsThePhone();
    await screenshot('wrong-code');
    await retype(otp);
  } else {
    await page.keyboard.type(otp);
  }
  await page.keyboard.press('Enter');
  await visible('signed-in');
  assert.equal(await activeId(), 'signed-in-title', 'focus moves to the signed-in heading');
}

async function logOut(): Promise<string> {
  const token = await storedToken();
  assert.ok(token, 'a token in sessionStorage before logout');
  await tabTo('logout');
  await page.keyboard.press('Enter');
  await visible('start');
  assert.match(await text('status'), /Logged out/);
  assert.equal(await activeId(), 'identifier', 'focus back on the identifier');
  assert.equal(await storedToken(), null, 'the SDK forgot the session');
  assert.equal(await isActive(token), false, 'the service refuses the token after logout');
  return token;
}

describe('demo page in Chromium', () => {
  before(async () => {
    if (SKIP) return;
    const dataDir = mkdtempSync(join(tmpdir(), 'ae-demo-data-'));
    const profile = mkdtempSync(join(tmpdir(), 'ae-demo-chromium-'));
    dirs.push(dataDir, profile);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // NODE_ENV unset: the development default, in which /demo is on without configuration.
    server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: childEnv({ ...SECRETS, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = server;
    serverExit = new Promise((res) => proc.on('exit', res));
    proc.stdout?.setEncoding('utf8').on('data', (c: string) => (serverOutput += c));
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => (serverOutput += c));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`the service exited\n${serverOutput}`);
      if ((await fetch(`${base}/health`).catch(() => null))?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`the service did not become healthy\n${serverOutput}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await admin('PUT', `/admin/v1/brands/${BRAND}`, { passwordEnabled: true });

    // A fresh profile (user data dir) of its own, removed afterwards.
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: WIDTH, height: 740 } });
    context.setDefaultTimeout(15_000);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  });

  after(async () => {
    await context?.close();
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await serverExit;
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('OTP login by keyboard: wrong code, claims and countdown, renew, log out', { timeout: 60_000, skip: SKIP }, async () => {
    await page.goto(`${base}/demo?brand=${BRAND}`);
    await visible('start');
    assert.equal(await activeId(), 'identifier', 'the identifier field has the focus on load');
    assert.equal(await text('start-submit'), 'Send code');
    await fitsThePhone();

    await page.keyboard.type(MOBILE_TYPED);
    await page.keyboard.press('Enter');
    await visible('code');
    // Development: the page says where the code is, and never holds the admin token.
    assert.equal(await text('dev-request'), `GET /admin/v1/outbox?brand=${BRAND}&identifier=MOBILE|${MOBILE}&limit=1\nAuthorization: Bearer <AUTH_ADMIN_TOKEN>`);
    assert.ok(!(await page.content()).includes(ADMIN_TOKEN));
    await enterCode({ wrongFirst: true });

    const first = await claims();
    assert.equal(first.rol, 'USER');
    assert.equal(first.iss, 'AUTH ENGINE');
    assert.equal(first.exp - first.iat, 900, 'a web USER token lives 15 minutes by default');
    assert.match(await text('who'), new RegExp(`^\\${MOBILE_TYPED} \\(mobile\\)$`));
    const countdown = await text('countdown');
    assert.match(countdown, /^1[45]:[0-5]\d$/, countdown);
    await page.waitForFunction((c) => document.getElementById('countdown')?.textContent !== c, countdown);
    assert.match(await text('countdown'), /^1[45]:[0-5]\d$/);
    await fitsThePhone();

    // Renew: the SDK's regenerate; a new token (new jti) that the service accepts.
    const before = await storedToken();
    await tabTo('renew');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /renewed/.test(document.getElementById('status')?.textContent ?? ''));
    const renewed = await claims();
    assert.notEqual(renewed.jti, first.jti);
    const after = await storedToken();
    assert.notEqual(after, before);
    assert.equal(await isActive(after), true);
    assert.equal(await activeId(), 'renew', 'focus stays on Renew');

    // A reload keeps the session (sessionStorage): the same token, shown again.
    await page.reload();
    await visible('signed-in');
    assert.match(await text('status'), /Welcome back/);
    assert.equal((await claims()).jti, renewed.jti);

    await logOut();
  });

  test('reset password through the page: new password, then the code', { timeout: 60_000, skip: SKIP }, async () => {
    await chooseMode('reset');
    assert.equal(await text('start-submit'), 'Send reset code');
    await retype(MOBILE_TYPED);
    await page.keyboard.press('Tab');
    assert.equal(await activeId(), 'new-password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    assert.equal(await activeId(), 'confirm-password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await enterCode();
    assert.match(await text('status'), /new password is set/);
    const user = await admin('GET', `/admin/v1/users/${BRAND}/MOBILE/${MOBILE}`);
    assert.equal(user.user.hasPassword, true);
    await logOut();
  });

  test('password login by keyboard: a wrong password, then the right one', { timeout: 60_000, skip: SKIP }, async () => {
    await chooseMode('password');
    assert.equal(await text('start-submit'), 'Log in');
    await retype(MOBILE_TYPED);
    await page.keyboard.press('Tab');
    assert.equal(await activeId(), 'password');
    await page.keyboard.type(`${PASSWORD}-wrong`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('error')?.textContent !== '');
    assert.match(await text('error'), /^Invalid password, please try with the correct password\.\s+Code 1528\./);
    assert.equal(await activeId(), 'password', 'focus back on the password');
    await retype(PASSWORD);
    await page.keyboard.press('Enter');
    await visible('signed-in');
    assert.match(await text('status'), /Logged in with your password/);
    assert.equal((await claims()).rol, 'USER');
    assert.equal(await isActive(await storedToken()), true);
    await fitsThePhone();
    await screenshot('signed-in');
    await logOut();
  });

  test('no CSP violation or script error on the way', { skip: SKIP }, () => {
    assert.deepEqual(consoleErrors, []);
  });
});
