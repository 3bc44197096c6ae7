import type { Command } from '../cli-kit';
import { EMBEDDED_DIGIT_SETS, ensureEmbeddedDigits, type EmbeddedDigitSet } from '../embedded/build';
import { UsageError } from '../cli-kit';

export const dataCommand: Command = {
  name: 'data',
  summary: 'Build the embedded real digit sets (mnistm, syndigits, usps-like) into the cache folder, if missing.',
  usage: 'data [--only mnistm|syndigits|usps-like] [--cache-dir DIR]',
  flags: { only: { type: 'string' }, 'cache-dir': { type: 'string' } },
  needsEngine: false,
  async run({ flags }) {
    const only = flags.only as string | undefined;
    if (only && !(EMBEDDED_DIGIT_SETS as readonly string[]).includes(only)) {
      throw new UsageError(`--only: unknown set "${only}"; choose one of ${EMBEDDED_DIGIT_SETS.join(', ')}`);
    }
    const names = only ? [only as EmbeddedDigitSet] : EMBEDDED_DIGIT_SETS;
    for (const name of names) {
      const dir = await ensureEmbeddedDigits(name, { cacheDir: flags['cache-dir'] as string | undefined, log: (m) => console.log(m) });
      console.log(`${name}: ${dir}`);
    }
  },
};
