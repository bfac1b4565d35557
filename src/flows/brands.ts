// Brand lookup for customer requests and the brand administration of spec §8.
import { deepFreeze, parseBrandConfig } from '../domain/brand-config.ts';
import { AuthError, fail } from '../domain/errors.ts';
import { normaliseBrandName } from '../domain/identifier.ts';
import type { Brand } from '../domain/types.ts';
import type { Clock } from '../domain/clock.ts';
import type { BrandStore } from '../ports/durable-store.ts';

/** The brand of a customer request, or 1504. A malformed name is simply an unknown brand. */
export async function loadBrand(brands: BrandStore, raw: string): Promise<Brand> {
  let name: string;
  try {
    name = normaliseBrandName(raw);
  } catch {
    return fail(1504);
  }
  const config = await brands.getBrand(name);
  if (!config) return fail(1504);
  // Stored configs were validated when saved; freezing keeps flows from mutating them.
  return { name, config: deepFreeze(config) };
}

/** Admin: the brand named in a URL (1519 for a malformed name, 1504 when unknown). */
export async function getBrand(brands: BrandStore, raw: string): Promise<Brand> {
  const name = normaliseBrandName(raw);
  const config = await brands.getBrand(name);
  if (!config) return fail(1504);
  return { name, config };
}

/** Admin: create or replace a brand. The old config stays when the new one is refused. */
export async function putBrand(brands: BrandStore, clock: Clock, raw: string, body: unknown): Promise<Brand> {
  const name = normaliseBrandName(raw);
  const previous = await brands.getBrand(name);
  const config = parseBrandConfig(body, previous ?? undefined);
  await brands.putBrand(name, config, clock.now());
  return { name, config };
}

export async function deleteBrand(brands: BrandStore, raw: string): Promise<void> {
  const name = normaliseBrandName(raw);
  if (!(await brands.deleteBrand(name))) throw new AuthError(1504);
}
