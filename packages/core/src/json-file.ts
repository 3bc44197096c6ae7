/**
 * JSON read back from disk (checkpoints, run and model configs, statistics files) is checked
 * against a zod schema, and a file that does not fit is reported with its path and the field:
 * `runs/x/checkpoints/latest.json: step: expected number, received string`.
 */
import { promises as fs } from 'node:fs';
import { describeIssues, z } from './zod-issues';

export { describeIssues, z };

export class JsonFileError extends Error {
  constructor(
    public readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'JsonFileError';
  }
}

/** Makes the error for a file that does not fit (a module's own error class, say). */
export type FileErrorFactory = (file: string, problem: string) => Error;

const jsonFileError: FileErrorFactory = (file, problem) => new JsonFileError(file, problem);

/** Checks an already parsed value; `file` names where it came from in the error. */
export function checkJson<S extends z.ZodType>(value: unknown, schema: S, file: string, makeError: FileErrorFactory = jsonFileError): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw makeError(file, describeIssues(result.error));
  return result.data;
}

export interface ReadJsonOptions {
  /** What to say when the file does not exist (default: "not found"). */
  missing?: string;
  /** The error to throw (default: JsonFileError). */
  makeError?: FileErrorFactory;
}

export async function readJsonFile<S extends z.ZodType>(file: string, schema: S, options: ReadJsonOptions = {}): Promise<z.output<S>> {
  const makeError = options.makeError ?? jsonFileError;
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw makeError(file, code === 'ENOENT' ? (options.missing ?? 'not found') : `cannot read (${code ?? String(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw makeError(file, `invalid JSON (${(err as Error).message})`);
  }
  return checkJson(value, schema, file, makeError);
}
