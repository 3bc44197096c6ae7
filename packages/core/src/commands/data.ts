import { defineCommand, flag } from '../cli-kit';
import { EMBEDDED_DIGIT_SETS, ensureEmbeddedDigits } from '../embedded/build';

export const dataCommand = defineCommand({
  name: 'data',
  summary: 'Build the embedded real digit sets (mnistm, syndigits, usps-like) into the cache folder, if missing.',
  flags: {
    only: flag.choice(EMBEDDED_DIGIT_SETS, { help: 'build only this set', shown: 'all' }),
    'cache-dir': flag.path({ help: 'cache folder', metavar: 'DIR', shown: '$DLCV_CACHE_DIR or ~/.cache/dlcv-hw2' }),
  },
  needsEngine: false,
  async run({ flags }) {
    for (const name of flags.only ? [flags.only] : EMBEDDED_DIGIT_SETS) {
      const dir = await ensureEmbeddedDigits(name, { cacheDir: flags['cache-dir'], log: (m) => console.log(m) });
      console.log(`${name}: ${dir}`);
    }
  },
});
