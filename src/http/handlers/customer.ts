// Thin customer handlers: parse the common fields, call one flow, shape the response.
import type { FastifyRequest } from 'fastify';
import type { Variant } from '../../domain/types.ts';
import { startSession } from '../../flows/start-session.ts';
import { sendOtp } from '../../flows/send-otp.ts';
import { verifyOtp } from '../../flows/verify-otp.ts';
import { validatePassword } from '../../flows/validate-password.ts';
import type { LoginResult } from '../../flows/issue-tokens.ts';
import { regenerateWithKey, regenerateWithToken } from '../../flows/regenerate-token.ts';
import { changePassword } from '../../flows/change-password.ts';
import { forgetPassword } from '../../flows/forget-password.ts';
import { expireToken } from '../../flows/expire-token.ts';
import { fail } from '../../domain/errors.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ok } from '../envelope.ts';
import { queryParam } from '../query.ts';
import { otpText, parseRequest, type CustomerBody } from '../request-context.ts';

type Body<T> = FastifyRequest<{ Body: CustomerBody & T }>;
export type CustomerHandler = (deps: AppDeps, variant: Variant) => (req: FastifyRequest) => Promise<object>;

const loginResponse = (r: LoginResult) => ok({
  auth: { token: r.token, key: r.key },
  user: { appRegistered: false, sessionId: null, role: 'USER', userRegisteredForPassword: r.user.passwordHash !== null },
});

export const tokenGenerate: CustomerHandler = (deps, variant) => async (req) => {
  const body = (req as Body<{ password?: string; confirmPassword?: string }>).body;
  const { ctx, signupMobile, signupEmail } = await parseRequest(body, variant, deps, req.ip);
  const r = await startSession(deps, ctx, { password: body.password, confirmPassword: body.confirmPassword, signupMobile, signupEmail });
  return ok({
    auth: { token: r.token, key: null },
    user: { appRegistered: false, sessionId: r.sessionId, role: 'VIEW', userRegisteredForPassword: r.userRegisteredForPassword },
  });
};

export const otpGenerate: CustomerHandler = (deps, variant) => async (req) => {
  const body = (req as Body<{ sessionId: string; hash?: unknown; timeStamp?: unknown; locale?: string }>).body;
  const { ctx, rawIdentifierValue } = await parseRequest(body, variant, deps, req.ip);
  const options = { fallbackChannel: queryParam(req, 'fallbackChannel'), mobile: body.mobile, email: body.email, locale: body.locale };
  await sendOtp(deps, ctx, body.sessionId, { hash: body.hash, timeStamp: body.timeStamp, rawIdentifierValue }, options);
  return ok();
};

export const otpValidate: CustomerHandler = (deps, variant) => async (req) => {
  const body = (req as Body<{ sessionId: string; otp: string | number }>).body;
  const { ctx } = await parseRequest(body, variant, deps, req.ip);
  return loginResponse(await verifyOtp(deps, ctx, body.sessionId, otpText(body.otp, ctx.brand.config.otpLength)));
};

export const passwordValidate: CustomerHandler = (deps, variant) => async (req) => {
  const body = (req as Body<{ sessionId: string; password: string }>).body;
  const { ctx } = await parseRequest(body, variant, deps, req.ip);
  const r = await validatePassword(deps, ctx, body.sessionId, body.password);
  return {
    ...loginResponse(r),
    identifiers: { identifierList: r.user.identifiers.map((i) => ({ type: i.type, value: i.value })) },
  };
};

export const tokenRegenerate: CustomerHandler = (deps, variant) => async (req) => {
  const body = (req as Body<{ key?: string; expiredToken?: string }>).body;
  const { ctx } = await parseRequest(body, variant, deps, req.ip);
  const r =
    variant === 'mobile'
      ? await regenerateWithKey(deps, ctx, body.key ?? fail(1519))
      : await regenerateWithToken(deps, ctx, body.expiredToken ?? fail(1519));
  return ok({ auth: { token: r.token, key: r.key } });
};

export const passwordChange: CustomerHandler = (deps, variant) => async (req) => {
  const body = (req as Body<{ token: string; password: string; newPassword: string; confirmPassword?: string }>).body;
  const { ctx } = await parseRequest(body, variant, deps, req.ip);
  await changePassword(deps, ctx, { token: body.token, password: body.password, newPassword: body.newPassword, confirmPassword: body.confirmPassword });
  return ok();
};

export const passwordForget: CustomerHandler = (deps, variant) => async (req) => {
  const body = (req as Body<{ sessionId: string; password: string; confirmPassword?: string }>).body;
  const { ctx } = await parseRequest(body, variant, deps, req.ip);
  await forgetPassword(deps, ctx, body.sessionId, body.password, body.confirmPassword);
  return ok();
};

export const tokenExpire: CustomerHandler = (deps, variant) => async (req) => {
  const body = (req as Body<{ token: string; key?: string }>).body;
  const { ctx } = await parseRequest(body, variant, deps, req.ip);
  await expireToken(deps, ctx, body.token, variant === 'mobile' ? body.key : undefined);
  return ok();
};
