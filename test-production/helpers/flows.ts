// Customer flows over HTTP against service processes (helpers/instances.ts), for the
// multi-instance, fault and crash tests: who the customer is, the request bodies, the OTP
// read back from the admin outbox, and the common sign-up / login sequences. Every step
// takes the instance to send it to, so a flow can hop between instances.
import { randomBytes, randomInt } from 'node:crypto';
import type { Instance, Res } from './instances.ts';

export type VariantName = 'mobile' | 'web';

export interface Person {
  variant: VariantName;
  type: 'MOBILE' | 'EMAIL';
  value: string;
  /** Mobile only. */
  deviceId: string | null;
}

export const VARIANTS: readonly VariantName[] = ['mobile', 'web'];

export const prefixOf = (v: VariantName) => (v === 'mobile' ? '/auth/v1/' : '/auth/v1/web/');

/** A customer nobody used before: mobile → a random MOBILE number, web → a random EMAIL. */
export function newPerson(variant: VariantName, deviceId = `dev-${randomBytes(4).toString('hex')}`): Person {
  if (variant === 'mobile') return { variant, type: 'MOBILE', value: `91${String(randomInt(1e9, 1e10))}`, deviceId };
  return { variant, type: 'EMAIL', value: `u-${randomBytes(6).toString('hex')}@example.com`, deviceId: null };
}

/** The same customer on another device (mobile) — web has no device. */
export const onDevice = (p: Person, deviceId: string): Person => ({ ...p, deviceId: p.variant === 'mobile' ? deviceId : null });

export const idKey = (p: Person) => `${p.type}|${p.value}`;

export const body = (p: Person, brand: string, extra: object = {}) => ({
  brand,
  identifierType: p.type,
  identifierValue: p.value,
  ...(p.deviceId !== null ? { deviceId: p.deviceId } : {}),
  ...extra,
});

/** POST a customer step (`token/generate`, `otp/validate`, …) of the person's variant. */
export const step = (inst: Instance, p: Person, path: string, brand: string, extra: object = {}): Promise<Res> =>
  inst.post(`${prefixOf(p.variant)}${path}`, body(p, brand, extra));

/** The newest OTP the outbox holds for the person, or null (none, or the read failed). */
export async function outboxOtp(inst: Instance, brand: string, p: Person): Promise<{ res: Res; otp: string | null }> {
  const res = await inst.admin('GET', `/admin/v1/outbox?brand=${brand}&identifier=${encodeURIComponent(idKey(p))}&limit=1`);
  const otp = res.status === 200 ? res.body?.messages?.[0]?.otp : undefined;
  return { res, otp: typeof otp === 'string' ? otp : null };
}

/** admin GET user: the stored user, or the response when it is not 200. */
export const getUser = (inst: Instance, brand: string, p: Person) =>
  inst.admin('GET', `/admin/v1/users/${brand}/${p.type}/${encodeURIComponent(p.value)}`);

export interface SignedIn {
  token: string;
  key: string | null;
}

/** True for exactly the §9 1599 answer: HTTP 503 and `{status:{success:false,code:1599,message}}`. */
export function is1599(r: Res): boolean {
  return (
    r.status === 503 &&
    r.body?.status?.success === false &&
    r.body.status.code === 1599 &&
    r.body.status.message === 'Service temporarily unavailable.' &&
    Object.keys(r.body).length === 1
  );
}

export const isOk = (r: Res) => r.status === 200 && r.body?.status?.success === true && r.body.status.code === 200;

/** One line for a report: `HTTP 503 1599`, or the raw body when it is not an envelope. */
export const describe = (r: Res) => `HTTP ${r.status} ${r.body?.status?.code ?? ''} ${r.body?.status ? '' : r.raw.slice(0, 200)}`.trim();

/** A password login on `via`: token/generate, then password/validate's answer (a failed token/generate throws). */
export async function passwordLogin(p: Person, brand: string, via: Instance, password: string): Promise<Res> {
  const g = await step(via, p, 'token/generate', brand);
  if (!isOk(g)) throw new Error(`token/generate (login of ${p.value}): ${describe(g)}`);
  return step(via, p, 'password/validate', brand, { sessionId: g.body.user.sessionId, password });
}
