/**
 * Paths the user typed. `pnpm --filter @dlcv/ddpm train --out runs/x` runs the command in the
 * package's folder, not where the user is; pnpm and npm name that place in INIT_CWD, and a
 * relative path means relative to it. Run directly (`node bin/...`), INIT_CWD is unset and the
 * working directory is the user's.
 */
import * as nodePath from 'node:path';

export function userPath(p: string): string {
  return nodePath.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}
