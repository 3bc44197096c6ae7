/**
 * Writing outputs: folders made one level at a time (a bounded walk, with an error naming the
 * folder that cannot be made), and files written through a temp file and rename, which is
 * removed again when the write fails, with an error naming the file (a full disk included).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export class OutputPathError extends Error {
  constructor(
    public readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${problem}`, options);
    this.name = 'OutputPathError';
  }
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only filesystem',
  ENOENT: 'the filesystem does not allow creating it here',
  ENOTDIR: 'a part of the path is a file, not a folder',
};

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${REASONS[code] ?? 'failed'} (${code})` : String(err);
}

/**
 * Makes `dir` and its missing parents. Node's recursive mkdir loops forever on some virtual
 * filesystems (/proc answers ENOENT, then EEXIST); this walks the path once.
 */
export async function makeDir(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    const stat = await fs.stat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw new OutputPathError(p, `cannot use this folder: ${reason(err)}`, { cause: err });
    });
    if (stat?.isDirectory()) break;
    if (stat) throw new OutputPathError(p, 'exists and is not a folder');
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      await fs.mkdir(p);
    } catch (err) {
      const isDir = await fs.stat(p).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!isDir) throw new OutputPathError(p, `cannot create this folder: ${reason(err)}`, { cause: err });
    }
  }
}

/** Writes bytes and fsyncs them, so a later rename never exposes a file the disk lacks. */
export async function writeFileSynced(file: string, bytes: Uint8Array | string): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes bytes to `file` through a temp file and rename, so readers never see half a file. On
 * failure the temp file is removed and the error names `file` and the reason.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  await makeDir(path.dirname(file));
  const tmp = `${file}.tmp-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  try {
    await writeFileSynced(tmp, bytes);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new OutputPathError(file, `cannot write: ${reason(err)}`, { cause: err });
  }
}
