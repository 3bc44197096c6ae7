/**
 * Paths the user typed. `pnpm --filter @dlcv/gan train --data hw2_data/face/train` runs in the
 * package folder, not where the user is: pnpm and npm say where that was in INIT_CWD, and a
 * relative path means relative to it. Run directly (node bin/dlcv-gan.js), INIT_CWD is unset.
 */
import * as path from 'node:path';

export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}
