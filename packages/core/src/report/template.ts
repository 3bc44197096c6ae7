/** The report's HTML from its template (report-template/ of this package), with {{name}} slots. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** The template folder: beside src/ and dist/, shipped with the package. */
export const TEMPLATE_DIR = path.join(__dirname, '..', '..', 'report-template');

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Fills every {{name}} of `template`: `text` values are HTML-escaped, `html` values go in as
 * they are (markup this module built). A slot without a value, or a value without a slot, is an
 * error: the template and the code must agree.
 */
export function fillTemplate(template: string, values: { text?: Record<string, string>; html?: Record<string, string> }, name = 'template'): string {
  const all = new Map<string, string>();
  for (const [k, v] of Object.entries(values.text ?? {})) all.set(k, escapeHtml(v));
  for (const [k, v] of Object.entries(values.html ?? {})) all.set(k, v);
  const used = new Set<string>();
  const out = template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = all.get(key);
    if (v === undefined) throw new Error(`${name}: no value for {{${key}}}`);
    used.add(key);
    return v;
  });
  const unused = [...all.keys()].filter((k) => !used.has(k));
  if (unused.length) throw new Error(`${name}: no slot for ${unused.map((k) => `{{${k}}}`).join(', ')}`);
  return out;
}

export async function readTemplate(file: string): Promise<string> {
  return fs.readFile(path.join(TEMPLATE_DIR, file), 'utf8');
}
