/**
 * Per-run metrics as JSON lines: one object per line, appended (not rewritten) at every call,
 * so a run killed mid-training loses at most the line being written and the log can be plotted
 * or resumed from. Numbers that JSON cannot hold (NaN, Infinity: a diverged loss) become null.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeDir } from './files';

export type MetricsRecord = Record<string, unknown>;

export class MetricsFileError extends Error {
  constructor(
    public readonly file: string,
    public readonly line: number | null,
    problem: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${problem}`);
    this.name = 'MetricsFileError';
  }
}

export class MetricsLog<T extends object = MetricsRecord> {
  // Appends run one after another in call order, even when callers do not await them.
  private queue: Promise<void> = Promise.resolve();
  private opened = false;

  constructor(readonly file: string) {}

  /** Appends one record as one line. Resolves when the line is handed to the OS. */
  append(record: T): Promise<void> {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      return Promise.reject(new Error(`MetricsLog ${this.file}: a record must be a plain object`));
    }
    // Serialise now, so later mutation of `record` by the caller does not change what is logged.
    const line = `${JSON.stringify(record)}\n`;
    const next = this.queue.then(async () => {
      if (!this.opened) {
        await this.open();
        this.opened = true;
      }
      await fs.appendFile(this.file, line, 'utf8');
    });
    // A failed append must not block later ones; the caller sees the failure through `next`.
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Resolves when every append so far has been written. */
  async flush(): Promise<void> {
    await this.queue;
  }

  /**
   * Before the first append: create parent folders and mend an unterminated last line left by a
   * run killed mid-write, which would otherwise glue onto our first record and become a corrupt
   * line in the middle of the file. A complete record that only lost its newline gets it back;
   * a partial one is cut off.
   */
  private async open(): Promise<void> {
    await makeDir(path.dirname(this.file));
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      // Read back from the end until a newline (or the start): that is the unterminated tail.
      const chunk = Buffer.alloc(64 * 1024);
      const parts: Buffer[] = [];
      let tailStart = size;
      while (tailStart > 0) {
        const from = Math.max(0, tailStart - chunk.length);
        const { bytesRead } = await handle.read(chunk, 0, tailStart - from, from);
        const got = chunk.subarray(0, bytesRead);
        const nl = got.lastIndexOf(0x0a);
        if (nl >= 0) {
          parts.unshift(Buffer.from(got.subarray(nl + 1)));
          tailStart = from + nl + 1;
          break;
        }
        parts.unshift(Buffer.from(got));
        tailStart = from;
      }
      if (tailStart === size) return;
      if (isJsonObject(Buffer.concat(parts).toString('utf8'))) await handle.write('\n', size);
      else await handle.truncate(tailStart);
    } finally {
      await handle.close();
    }
  }
}

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

export interface MetricsRead<T> {
  records: T[];
  /** The unfinished last line of a run that was killed mid-write, if any: dropped from `records`. */
  truncated: { line: number; text: string } | null;
}

/**
 * Reads a JSON-lines metrics file. An unterminated last line that does not parse is taken as a
 * write cut short and reported in `truncated`; any other line that is not a JSON object is an
 * error naming the file and line. Blank lines are skipped.
 */
export async function readMetrics<T extends object = MetricsRecord>(file: string): Promise<MetricsRead<T>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MetricsFileError(file, null, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  const lines = text.split('\n');
  // After a final '\n' split leaves an empty string: not a line. Otherwise the last is unterminated.
  const unterminated = lines.pop() as string;
  const records: T[] = [];
  const parse = (raw: string, lineNo: number): T | undefined => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new MetricsFileError(file, lineNo, `corrupt line (${(err as Error).message}): ${preview(raw)}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new MetricsFileError(file, lineNo, `not a JSON object: ${preview(raw)}`);
    }
    return value as T;
  };
  lines.forEach((raw, i) => {
    if (raw.trim() !== '') records.push(parse(raw, i + 1) as T);
  });
  let truncated: MetricsRead<T>['truncated'] = null;
  if (unterminated.trim() !== '') {
    const lineNo = lines.length + 1;
    try {
      // A complete record whose newline alone was lost is still a record.
      records.push(parse(unterminated, lineNo) as T);
    } catch {
      truncated = { line: lineNo, text: unterminated };
    }
  }
  return { records, truncated };
}

function preview(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}
