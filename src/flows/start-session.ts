// Spec §3.1 token/generate: start a session and hand out a VIEW token.
import { randomUUID } from 'node:crypto';
import { fail } from '../domain/errors.ts';
import { identifierKey, type Identifier } from '../domain/types.ts';
import type { User } from '../ports/durable-store.ts';
import type { NewSession, PendingPassword } from '../ports/session-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { checkNewPassword } from './password-rules.ts';

export interface StartSessionInput {
  password?: string;
  confirmPassword?: string;
  /** USERNAME sign-up destinations, already normalised by the HTTP layer. */
  signupMobile?: string;
  signupEmail?: string;
}

export interface StartSessionResult {
  token: string;
  sessionId: string;
  userRegisteredForPassword: boolean;
}

export async function startSession(deps: FlowDeps, ctx: RequestContext, input: StartSessionInput): Promise<StartSessionResult> {
  const { config } = ctx.brand;
  const signup: Identifier[] = [];
  if (ctx.identifier.type === 'USERNAME') {
    if (input.signupMobile !== undefined) signup.push({ type: 'MOBILE', value: input.signupMobile });
    if (input.signupEmail !== undefined) signup.push({ type: 'EMAIL', value: input.signupEmail });
  }

  let user: User | null;
  let destination: Identifier | null = null;
  let pendingPassword: PendingPassword | null = null;
  const password = input.password === '' ? undefined : input.password;

  if (signup.length > 0) {
    // USERNAME sign-up: the username and every given destination must be free. A race
    // between two pending sign-ups is settled at OTP validation by the store's uniqueness.
    for (const id of [ctx.identifier, ...signup]) {
      if (await deps.users.findUser(ctx.brand.name, id)) fail(1543);
    }
    if (!config.passwordEnabled) fail(1524);
    if (password === undefined) fail(1520);
    user = null;
    destination = signup[0];
  } else {
    user = await deps.users.findUser(ctx.brand.name, ctx.identifier);
    if (ctx.identifier.type === 'USERNAME') {
      // USERNAME login: OTPs go to the registered mobile, else the email.
      if (!user) return fail(1540);
      const to = user.identifiers.find((i) => i.type === 'MOBILE') ?? user.identifiers.find((i) => i.type === 'EMAIL');
      if (!to) return fail(1540);
      destination = { type: to.type, value: to.value };
    }
    if (user?.passwordHash) {
      // An existing password is never overwritten from token/generate: the body's is ignored.
    } else if (password === undefined) {
      if (!user && config.passwordEnabled && config.passwordRequiredAtSignup) fail(1520);
    }
  }

  if (password !== undefined && !user?.passwordHash) {
    checkNewPassword(config, password, input.confirmPassword);
    // Held on the session, hashed; it becomes the user's only when OTP validation succeeds.
    pendingPassword = { hash: await deps.passwords.hash(password), purpose: 'register' };
  }

  const now = deps.clock.now();
  const session: NewSession = {
    id: `P-${randomUUID()}`,
    brand: ctx.brand.name,
    variant: ctx.variant,
    identifier: ctx.identifier,
    deviceId: ctx.deviceId,
    signup: signup.length > 0 ? signup : null,
    destination,
    pendingPassword,
    newUser: user === null,
    createdAt: now,
    expiresAt: now + config.sessionValiditySeconds * 1000,
  };
  await deps.sessions.create(session);

  const idv = user ? user.identifiers.map(identifierKey) : [identifierKey(ctx.identifier)];
  const view = await deps.tokens.issue({
    role: 'VIEW',
    brand: ctx.brand.name,
    idv,
    deviceId: ctx.deviceId,
    ttlSeconds: config.tokenValiditySeconds[ctx.variant],
    now,
  });
  return { token: view.token, sessionId: session.id, userRegisteredForPassword: Boolean(user?.passwordHash) };
}
