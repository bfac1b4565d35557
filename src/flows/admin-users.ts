// Admin user operations of spec §8: look up, unlock (clears locks and retry counts), erase.
import { fail } from '../domain/errors.ts';
import { normaliseIdentifier, parseIdentifierType } from '../domain/identifier.ts';
import { identifierKey, type Identifier } from '../domain/types.ts';
import type { BrandStore, User } from '../ports/durable-store.ts';
import type { FlowDeps } from './deps.ts';
import { getBrand } from './brands.ts';
import { lockKey, passwordKey } from './lockout.ts';

export interface AdminUserView {
  user: User;
  identifier: Identifier;
  lockedUntil: number | null;
}

type AdminDeps = FlowDeps & { brands: BrandStore };

/** The user named by an admin URL: 1519 for a malformed value, 1546 for a bad type, 1504, 1515. */
export async function findAdminUser(deps: AdminDeps, rawBrand: string, rawType: string, rawValue: string): Promise<AdminUserView> {
  const type = parseIdentifierType(rawType) ?? fail(1546);
  const identifier = { type, value: normaliseIdentifier(type, rawValue) };
  const brand = await getBrand(deps.brands, rawBrand);
  const user = await deps.users.findUser(brand.name, identifier);
  if (!user) return fail(1515);
  const window = brand.config.passwordRetryWindowMinutes * 60_000;
  const now = deps.clock.now();
  const lock = await deps.limits.getFailures(lockKey(brand.name, user, identifier), now, window);
  return { user, identifier, lockedUntil: lock.lockedUntil };
}

/** Clears the account lock and the retry counts of every identifier of the user. */
export async function unlockUser(deps: AdminDeps, ip: string | null, rawBrand: string, rawType: string, rawValue: string): Promise<void> {
  const { user, identifier } = await findAdminUser(deps, rawBrand, rawType, rawValue);
  const keys = [lockKey(user.brand, user, identifier), passwordKey(user.brand, user.uid), ...user.identifiers.map((i) => lockKey(user.brand, null, i))];
  await deps.limits.clearFailures(keys);
  await adminAudit(deps, ip, 'unlock', user.brand, identifier, { uid: user.uid });
}

/** Erases the user with identifiers and keys; their tokens die with the uid (checks look it up). */
export async function deleteUser(deps: AdminDeps, ip: string | null, rawBrand: string, rawType: string, rawValue: string): Promise<void> {
  const { user, identifier } = await findAdminUser(deps, rawBrand, rawType, rawValue);
  if (!(await deps.users.deleteUser(user.brand, user.uid))) fail(1515);
  await adminAudit(deps, ip, 'user_deleted', user.brand, identifier, { uid: user.uid });
}

function adminAudit(deps: AdminDeps, ip: string | null, type: string, brand: string, id: Identifier, detail: Record<string, unknown>) {
  return deps.audit.appendAudit({ type, brand, identifier: identifierKey(id), deviceId: null, ip, at: deps.clock.now(), detail: { ...detail, by: 'admin' } });
}
