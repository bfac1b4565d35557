// The demo login page's script: every call to the service goes through the SDK
// (@auth-engine/client, web variant), served by this service as ES modules under /demo/sdk/.
// Text is written with textContent only (never innerHTML): nothing a server or user sends can
// add markup to the page.
import { AuthError, AuthNetworkError, createAuthClient, webStorage } from '/demo/sdk/index.js';
// The SDK's own JWS payload reader (not part of its public API, but the page is shipped with it).
import { jwtPayload } from '/demo/sdk/jwt.js';

const $ = (id) => document.getElementById(id);
const development = document.body.dataset.development === 'true';
const brand = (new URLSearchParams(location.search).get('brand') ?? '').trim() || 'DEMO';

// The session lives in this tab only: a reload keeps it, closing the tab forgets it.
const auth = createAuthClient({ baseUrl: location.origin, brand, variant: 'web', storage: webStorage(sessionStorage) });

const views = { start: $('view-start'), code: $('view-code'), signedIn: $('view-signed-in') };
const LABELS = { otp: 'Send code', password: 'Log in', reset: 'Send reset code' };

/** The login in progress: what was chosen, for whom, on which session. */
let flow = null;
/** Set while a request runs: a second submit (a double Enter) is ignored, focus is kept. */
let busy = false;
let ticker = null;

// ---- messages ----

function say(kind, text, detail) {
  const box = $(kind === 'error' ? 'error' : 'status');
  const other = $(kind === 'error' ? 'status' : 'error');
  other.textContent = '';
  box.textContent = text;
  if (detail) {
    const small = document.createElement('small');
    small.textContent = detail;
    box.appendChild(small);
  }
}
const clearMessages = () => {
  $('error').textContent = '';
  $('status').textContent = '';
};

/** The spec's message for a contract failure, with the code and, where useful, what to do. */
function showError(err) {
  if (err instanceof AuthError) {
    const hints = [`Code ${err.code}.`];
    if (err.code === 1504) hints.push(`Is the brand ${brand.toUpperCase()} created? See docs/demo.md (PUT /admin/v1/brands/${brand.toUpperCase()}).`);
    if (err.code === 1524) hints.push('This brand has passwordEnabled off.');
    if (err.retryAfterSeconds !== undefined) hints.push(`Try again in ${err.retryAfterSeconds} s.`);
    say('error', err.message, hints.join(' '));
  } else if (err instanceof AuthNetworkError) {
    say('error', 'The service could not be reached or gave an unexpected answer. Try again.', err.reason === 'timeout' ? 'The request timed out.' : undefined);
  } else {
    say('error', 'Something went wrong in the page.', err instanceof Error ? err.message : String(err));
  }
}

/**
 * Runs one user action: ignores it while another runs, marks the form busy (aria-disabled,
 * not disabled: a disabled button would drop the keyboard focus), and shows a failure.
 */
async function act(form, work, onError) {
  if (busy) return;
  busy = true;
  const buttons = form.querySelectorAll('button');
  form.setAttribute('aria-busy', 'true');
  buttons.forEach((b) => b.setAttribute('aria-disabled', 'true'));
  try {
    await work();
  } catch (err) {
    showError(err);
    if (err instanceof AuthError && err.loginRequired) {
      await showStart();
      return;
    }
    onError?.(err);
  } finally {
    busy = false;
    form.removeAttribute('aria-busy');
    buttons.forEach((b) => b.removeAttribute('aria-disabled'));
  }
}

// ---- views ----

function showView(name, focusId) {
  for (const [key, el] of Object.entries(views)) el.hidden = key !== name;
  $(focusId).focus();
}

function focusField(id) {
  const el = $(id);
  el.focus();
  el.select?.();
}

// ---- start: identifier, and a password for password login or reset ----

/** `@` → EMAIL; digits with phone punctuation → MOBILE; anything else a USERNAME login. */
function identifierOf(text) {
  const value = text.trim();
  if (value.includes('@')) return { type: 'EMAIL', value };
  if (/^[+\d\s().-]+$/.test(value) && /\d/.test(value)) return { type: 'MOBILE', value };
  return { type: 'USERNAME', value };
}

const mode = () => $('start-form').elements.namedItem('mode').value;

function onModeChange() {
  const m = mode();
  $('password-fields').hidden = m !== 'password';
  $('reset-fields').hidden = m !== 'reset';
  $('start-submit').textContent = LABELS[m];
}

function showStart() {
  stopTicker();
  flow = null;
  onModeChange();
  showView('start', 'identifier');
}

async function onStart(event) {
  event.preventDefault();
  const form = $('start-form');
  const m = mode();
  const id = identifierOf($('identifier').value);
  await act(form, async () => {
    clearMessages();
    const { sessionId } = await auth.startSession(id);
    if (m === 'password') {
      await auth.loginWithPassword(id, sessionId, $('password').value);
      $('password').value = '';
      await showSignedIn('Logged in with your password.');
      return;
    }
    if (m === 'reset') {
      // Spec §3.7: the new password waits on the session until an OTP on it is proved.
      await auth.forgotPassword(id, sessionId, { password: $('new-password').value, confirmPassword: $('confirm-password').value });
    }
    await auth.sendOtp(id, sessionId);
    flow = { mode: m, id, sessionId };
    showCode();
  }, (err) => {
    // Back to the field the failure is about.
    const code = err instanceof AuthError ? err.code : 0;
    if (m === 'password' && [1526, 1528].includes(code)) focusField('password');
    else if (m === 'reset' && [1521, 1542].includes(code)) focusField('new-password');
    else focusField('identifier');
  });
}

// ---- code ----

/** Where the outbox files the code: the session's identifier, normalised as the service does (spec §1.1). */
function outboxIdentifier(id) {
  if (id.type === 'MOBILE') return `MOBILE|${id.value.replace(/[\s().-]/g, '').replace(/^\+/, '')}`;
  return `${id.type}|${id.value.toLowerCase()}`;
}

function showCode() {
  $('code-to').textContent = flow.id.value;
  $('code').value = '';
  $('dev-hint').hidden = !development;
  if (development) {
    const b = brand.toUpperCase();
    const who = outboxIdentifier(flow.id);
    $('dev-request').textContent = `GET /admin/v1/outbox?brand=${b}&identifier=${who}&limit=1\nAuthorization: Bearer <AUTH_ADMIN_TOKEN>`;
    $('dev-cli').textContent = `npx auth-engine outbox --brand ${b} --identifier '${who}' --limit 1`;
  }
  say('status', flow.mode === 'reset' ? 'Code sent. Enter it to set your new password.' : 'Code sent.');
  showView('code', 'code');
}

async function onVerify(event) {
  event.preventDefault();
  if (!flow) return;
  await act($('code-form'), async () => {
    clearMessages();
    await auth.verifyOtp(flow.id, flow.sessionId, $('code').value.trim());
    const done = flow.mode === 'reset' ? 'Your new password is set, and you are logged in.' : 'Logged in with your code.';
    await showSignedIn(done);
  }, () => focusField('code'));
}

async function onResend() {
  if (!flow) return;
  await act($('view-code'), async () => {
    clearMessages();
    await auth.sendOtp(flow.id, flow.sessionId);
    say('status', 'A new code was sent.');
  });
  focusField('code');
}

// ---- signed in: claims, countdown, renew, log out ----

function stopTicker() {
  if (ticker !== null) clearInterval(ticker);
  ticker = null;
}

const twoDigits = (n) => String(n).padStart(2, '0');

function startTicker(expiresAt, lifetimeMs) {
  stopTicker();
  const tick = () => {
    const left = Math.max(0, expiresAt - Date.now());
    const s = Math.ceil(left / 1000);
    const el = $('countdown');
    el.classList.toggle('expired', left === 0);
    el.textContent = left === 0 ? 'expired: renew it' : `${Math.floor(s / 60)}:${twoDigits(s % 60)}`;
    $('lifetime').value = lifetimeMs > 0 ? left / lifetimeMs : 0;
  };
  tick();
  ticker = setInterval(tick, 1000);
}

/** Shows who is logged in and the token's claims; the token comes from the SDK (renewed by it when due). */
async function render() {
  const token = await auth.getToken();
  const session = await auth.getSession();
  if (token === null || session === null) return false;
  const claims = jwtPayload(token) ?? {};
  $('who').textContent = `${session.identifier.value} (${session.identifier.type.toLowerCase()})`;
  $('claims').textContent = JSON.stringify(claims, null, 2);
  const lifetimeMs = typeof claims.exp === 'number' && typeof claims.iat === 'number' ? (claims.exp - claims.iat) * 1000 : 0;
  if (session.expiresAt !== null) startTicker(session.expiresAt, lifetimeMs);
  return true;
}

async function showSignedIn(message) {
  flow = null;
  if (!(await render())) return showStart();
  say('status', message);
  showView('signedIn', 'signed-in-title');
}

async function onRenew() {
  await act($('view-signed-in'), async () => {
    clearMessages();
    await auth.regenerate();
    await render();
    say('status', 'Token renewed: a new token with a new expiry.');
  });
}

async function onLogout() {
  await act($('view-signed-in'), async () => {
    clearMessages();
    try {
      await auth.logout();
      say('status', 'Logged out. The token is revoked.');
    } catch (err) {
      // The SDK forgets the session whatever happened; the service may still accept the token until it expires.
      showError(err);
    }
    showStart();
  });
}

// ---- wiring ----

for (const el of document.querySelectorAll('.brand-name')) el.textContent = brand.toUpperCase();
$('brand').value = brand;
$('start-form').addEventListener('submit', onStart);
$('start-form').addEventListener('change', (e) => {
  if (e.target.name === 'mode') onModeChange();
});
$('code-form').addEventListener('submit', onVerify);
$('resend').addEventListener('click', onResend);
$('restart').addEventListener('click', () => {
  clearMessages();
  showStart();
});
$('renew').addEventListener('click', onRenew);
$('logout').addEventListener('click', onLogout);

// A session kept from earlier in this tab: show it (the SDK renews it first if due, or ends it).
try {
  if (await auth.getSession()) await showSignedIn('Welcome back.');
  else showStart();
} catch (err) {
  showError(err);
  showStart();
}
