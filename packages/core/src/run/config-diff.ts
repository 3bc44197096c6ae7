/** What differs between the config a run was saved with and the one it is resumed with. */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));

/**
 * Each difference as "key: saved -> now", nested keys dotted ("unet.nFeat: 48 -> 64"). Keys
 * listed in `mayChange` (top-level or dotted) are left out: settings such as the checkpoint
 * interval or the number of epochs, which a resumed run may change without changing what the
 * steps already taken computed.
 */
export function configDifferences(saved: unknown, now: unknown, mayChange: readonly string[] = []): string[] {
  const skip = new Set(mayChange);
  const diff = (a: unknown, b: unknown, key: string): string[] => {
    if (skip.has(key) || JSON.stringify(a) === JSON.stringify(b)) return [];
    if (isObject(a) && isObject(b)) return Object.keys({ ...a, ...b }).flatMap((k) => diff(a[k], b[k], key ? `${key}.${k}` : k));
    return [`${key || '(config)'}: ${show(a)} -> ${show(b)}`];
  };
  return diff(saved, now, '');
}
