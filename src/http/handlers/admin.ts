// Thin admin handlers (spec §8). Authentication is a hook on the /admin scope (routes.ts).
import type { FastifyRequest } from 'fastify';
import { publicBrandConfig } from '../../domain/brand-config.ts';
import { fail } from '../../domain/errors.ts';
import { normaliseBrandName, parseIdentifierKey } from '../../domain/identifier.ts';
import { deleteUser, findAdminUser, unlockUser } from '../../flows/admin-users.ts';
import { deleteBrand, getBrand, putBrand } from '../../flows/brands.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ok } from '../envelope.ts';
import { single } from '../query.ts';

type Params = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string | undefined> }>;
export type AdminHandler = (deps: AppDeps) => (req: FastifyRequest) => Promise<object>;

const brandView = (b: { name: string; config: Parameters<typeof publicBrandConfig>[0] }) => ({ brand: b.name, config: publicBrandConfig(b.config) });

export const putBrandHandler: AdminHandler = (deps) => async (req) =>
  ok(brandView(await putBrand(deps.brands, deps.clock, (req as Params).params.brand, req.body)));

export const getBrandHandler: AdminHandler = (deps) => async (req) => ok(brandView(await getBrand(deps.brands, (req as Params).params.brand)));

export const listBrandsHandler: AdminHandler = (deps) => async () =>
  ok({ brands: (await deps.brands.listBrands()).map((b) => brandView({ name: b.name, config: b.config })) });

export const deleteBrandHandler: AdminHandler = (deps) => async (req) => {
  await deleteBrand(deps.brands, (req as Params).params.brand);
  return ok();
};

/** Parses `limit` (default 50, 1–1000); anything else is 1519. */
function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : fail(1519);
}

export const outboxHandler: AdminHandler = (deps) => async (req) => {
  const raw = (req as Params).query;
  const q = { brand: single(raw.brand), identifier: single(raw.identifier), limit: single(raw.limit) };
  const filter: { brand?: string; identifier?: string; to?: string; limit: number } = { limit: limitOf(q.limit) };
  // A filter is a brand name like any other (§8: else 1519); PostgreSQL text cannot even hold a NUL.
  if (q.brand !== undefined) filter.brand = normaliseBrandName(q.brand);
  if (q.identifier !== undefined) {
    // The filter matches the session identifier or the destination the code went to.
    const id = parseIdentifierKey(q.identifier);
    filter.identifier = `${id.type}|${id.value}`;
    filter.to = id.value;
  }
  const messages = await deps.outbox.listOutbox(filter);
  return ok({ messages: messages.map((m) => ({ ...m, createdAt: new Date(m.createdAt).toISOString() })) });
};

const userParams = (req: FastifyRequest) => {
  const p = (req as Params).params;
  return [p.brand, p.type, p.value] as const;
};

export const getUserHandler: AdminHandler = (deps) => async (req) => {
  const { user, lockedUntil } = await findAdminUser(deps, ...userParams(req));
  return ok({
    user: {
      uid: user.uid,
      brand: user.brand,
      identifiers: user.identifiers,
      hasPassword: user.passwordHash !== null,
      lockedUntil: lockedUntil === null ? null : new Date(lockedUntil).toISOString(),
      createdAt: new Date(user.createdAt).toISOString(),
    },
  });
};

export const unlockUserHandler: AdminHandler = (deps) => async (req) => {
  await unlockUser(deps, req.ip, ...userParams(req));
  return ok();
};

export const deleteUserHandler: AdminHandler = (deps) => async (req) => {
  await deleteUser(deps, req.ip, ...userParams(req));
  return ok();
};

export const auditHandler: AdminHandler = (deps) => async (req) => {
  const raw = (req as Params).query;
  const q = { brand: single(raw.brand), limit: single(raw.limit) };
  const events = await deps.audit.listAudit({ brand: q.brand === undefined ? undefined : normaliseBrandName(q.brand), limit: limitOf(q.limit) });
  return ok({ events: events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) });
};
