/**
 * The homework's label CSVs: header exactly `image_name,label`, one `name,digit` row per image.
 * Every problem is reported as `file:line: problem` so a user can open the file at that line.
 */
import { promises as fs } from 'node:fs';

export class DataFileError extends Error {
  constructor(
    public readonly file: string,
    public readonly line: number | undefined,
    problem: string,
  ) {
    super(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
    this.name = 'DataFileError';
  }
}

export interface LabelRow {
  imageName: string;
  label: number;
  /** 1-based line in the CSV, for errors raised later (missing image, bad pixels). */
  line: number;
}

export const LABEL_CSV_HEADER = 'image_name,label';

export interface ParseLabelCsvOptions {
  /** Number of classes; labels must be integers in [0, numClasses). */
  numClasses?: number;
}

export function parseLabelCsv(text: string, file: string, options: ParseLabelCsvOptions = {}): LabelRow[] {
  const numClasses = options.numClasses ?? 10;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').trim();
  if (header !== LABEL_CSV_HEADER) {
    throw new DataFileError(file, 1, `expected the header "${LABEL_CSV_HEADER}", found "${header.slice(0, 60)}"`);
  }
  const rows: LabelRow[] = [];
  const seen = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    const line = i + 1;
    if (raw === '') continue;
    const fields = raw.split(',');
    if (fields.length !== 2) throw new DataFileError(file, line, `expected 2 fields "image_name,label", found ${fields.length}: "${raw.slice(0, 60)}"`);
    const imageName = (fields[0] ?? '').trim();
    const labelText = (fields[1] ?? '').trim();
    if (!imageName) throw new DataFileError(file, line, 'empty image_name');
    if (imageName.includes('/') || imageName.includes('\\') || imageName === '..') {
      throw new DataFileError(file, line, `image_name "${imageName}" must be a plain file name inside data/`);
    }
    if (!/^-?\d+$/.test(labelText)) throw new DataFileError(file, line, `label "${labelText}" is not an integer`);
    const label = Number(labelText);
    if (label < 0 || label >= numClasses) throw new DataFileError(file, line, `label ${label} outside 0-${numClasses - 1}`);
    const earlier = seen.get(imageName);
    if (earlier !== undefined) throw new DataFileError(file, line, `image_name "${imageName}" already listed on line ${earlier}`);
    seen.set(imageName, line);
    rows.push({ imageName, label, line });
  }
  if (rows.length === 0) throw new DataFileError(file, undefined, 'no rows after the header');
  return rows;
}

export async function readLabelCsv(file: string, options: ParseLabelCsvOptions = {}): Promise<LabelRow[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataFileError(file, undefined, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`);
  }
  return parseLabelCsv(text, file, options);
}

/** Writes rows as a label CSV (the prediction format of hw2_3.sh as well). */
export function formatLabelCsv(rows: { imageName: string; label: number }[]): string {
  return `${LABEL_CSV_HEADER}\n${rows.map((r) => `${r.imageName},${r.label}`).join('\n')}\n`;
}
