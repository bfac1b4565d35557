// Request and response schemas (TypeBox → JSON Schema). Requests are validated by fastify
// before a handler runs (a failure is 1519); responses are serialised through these schemas,
// so a field not listed here can never leak into a response.
import { Type, type TObject, type TProperties } from '@sinclair/typebox';

const Str = (max: number) => Type.String({ maxLength: max });
const Lenient = (max: number) => Type.Union([Type.String({ minLength: 1, maxLength: max }), Type.Number()]);

/** The common identifying fields of every customer request (spec §1.1). */
const idFields = {
  identifierType: Type.Optional(Str(32)),
  identifierValue: Type.Optional(Str(320)),
  // Legacy shape (`mobile` without identifierType) and USERNAME sign-up destinations.
  mobile: Type.Optional(Str(64)),
  email: Type.Optional(Str(320)),
  brand: Str(64),
};

export type Variant = 'mobile' | 'web';

/** A customer body for a variant: mobile requires deviceId; web ignores it (any type). */
export function customerBody<P extends TProperties>(variant: Variant, own: P, required: (keyof P & string)[] = []): TObject {
  const props: TProperties = { ...idFields };
  if (variant === 'mobile') props.deviceId = Lenient(128);
  for (const [k, v] of Object.entries(own)) props[k] = required.includes(k) ? v : Type.Optional(v);
  // Unknown extra fields are ignored (spec §1.1).
  return Type.Object(props, { additionalProperties: true });
}

export const SessionId = Str(128);
/** otp/generate `?fallbackChannel=SMS` (spec §3.2, §6); a repeated parameter is an array → 1519. */
export const FallbackQuery = Type.Object({ fallbackChannel: Type.Optional(Str(16)) }, { additionalProperties: true });
export const Secret = Type.String({ maxLength: 16384 });
// A numeric otp must be a non-negative integer (a fraction is a shape error, not a guess).
export const Otp = Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]);

const StatusOk = Type.Object({ success: Type.Boolean(), code: Type.Integer(), message: Type.String() });
export const Envelope = Type.Object({ status: StatusOk });

const UserView = Type.Object({
  appRegistered: Type.Boolean(),
  sessionId: Type.Union([Type.String(), Type.Null()]),
  role: Type.String(),
  userRegisteredForPassword: Type.Boolean(),
});
const Auth = Type.Object({ token: Type.String(), key: Type.Union([Type.String(), Type.Null()]) });

export const LoginResponse = Type.Object({ status: StatusOk, auth: Auth, user: UserView });
export const PasswordLoginResponse = Type.Object({
  status: StatusOk,
  auth: Auth,
  user: UserView,
  identifiers: Type.Object({ identifierList: Type.Array(Type.Object({ type: Type.String(), value: Type.String() })) }),
});

export const RegenerateResponse = Type.Object({ status: StatusOk, auth: Auth });

export const IntrospectResponse = Type.Object({
  status: StatusOk,
  active: Type.Boolean(),
  claims: Type.Optional(Type.Object({}, { additionalProperties: true })),
});
