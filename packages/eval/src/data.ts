/**
 * The embedded real digit sets of @dlcv/core, used as default data once core exports
 * `ensureEmbeddedDigits` (looked up at run time, so this package builds either way).
 */
import * as core from '@dlcv/core';

export type EmbeddedDigitName = 'mnistm' | 'syndigits' | 'usps-like';
type Ensure = (name: EmbeddedDigitName, options?: { cacheDir?: string; log?: (message: string) => void }) => Promise<string>;

export function embeddedDigits(): Ensure | undefined {
  const f = (core as unknown as Record<string, unknown>).ensureEmbeddedDigits;
  return typeof f === 'function' ? (f as Ensure) : undefined;
}

/** The folder of an embedded set, or a clear error saying how to pass one. */
export async function defaultDigitsFolder(name: EmbeddedDigitName, flag: string, log?: (m: string) => void): Promise<string> {
  const ensure = embeddedDigits();
  if (!ensure) throw new core.UsageError(`this @dlcv/core does not provide the embedded ${name} set yet: pass ${flag} <digits folder in the homework layout>`);
  return ensure(name, { log });
}
