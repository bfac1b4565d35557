// Thin admin handlers (spec §8). Authentication is a hook on the /admin scope (routes.ts).
import type { FastifyRequest } from 'fastify';
import { publicBrandConfig } from '../../domain/brand-config.ts';
import { fail } from '../../domain/errors.ts';
import { normaliseIdentifier, parseIdentifierKey, parseIdentifierType } from '../../domain/identifier.ts';
import { deleteBrand, getBrand, putBrand } from '../../flows/brands.ts';
import type { AppDeps } from '../../app-deps.ts';
import { ok } from '../envelope.ts';

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
  const q = (req as Params).query;
  const filter: { brand?: string; identifier?: string; to?: string; limit: number } = { limit: limitOf(q.limit) };
  if (q.brand !== undefined) filter.brand = q.brand.toUpperCase();
  if (q.identifier !== undefined) {
    // The filter matches the session identifier or the destination the code went to.
    const id = parseIdentifierKey(q.identifier);
    filter.identifier = `${id.type}|${id.value}`;
    filter.to = id.value;
  }
  const messages = await deps.outbox.listOutbox(filter);
  return ok({ messages: messages.map((m) => ({ ...m, createdAt: new Date(m.createdAt).toISOString() })) });
};

export const getUserHandler: AdminHandler = (deps) => async (req) => {
  const p = (req as Params).params;
  const type = parseIdentifierType(p.type) ?? fail(1546);
  const brand = await getBrand(deps.brands, p.brand);
  const user = await deps.users.findUser(brand.name, { type, value: normaliseIdentifier(type, p.value) });
  if (!user) return fail(1515);
  return ok({
    user: {
      uid: user.uid,
      brand: user.brand,
      identifiers: user.identifiers,
      hasPassword: user.passwordHash !== null,
      lockedUntil: null,
      createdAt: new Date(user.createdAt).toISOString(),
    },
  });
};
