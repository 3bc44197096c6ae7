// The package's layering, checked on the sources' import lines: the reference networks and the
// FID maths are used by the graders, commands and training, and never import them back (no
// import cycle between folders).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

const LOWER = ['files.ts', 'linalg', 'fid', 'networks'];
const UPPER = ['graders', 'commands', 'train', 'cli.ts', 'index.ts'];

async function sources(entry: string): Promise<string[]> {
  const full = path.join(__dirname, entry);
  if (!(await fs.stat(full)).isDirectory()) return [full];
  const names = await fs.readdir(full, { recursive: true });
  return names.filter((n) => n.endsWith('.ts')).map((n) => path.join(full, n));
}

/** The src-relative top-level entry (folder or file) of each relative import of `file`. */
async function importedEntries(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  const specs = [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string);
  return specs.map((s) => {
    const rel = path.relative(__dirname, path.resolve(path.dirname(file), s)).split(path.sep);
    return rel.length === 1 ? `${rel[0]}.ts` : (rel[0] as string);
  });
}

test('networks, fid, linalg and files.ts import no grader, command or trainer', async () => {
  const offending: string[] = [];
  let checked = 0;
  for (const entry of LOWER) {
    for (const file of await sources(entry)) {
      checked++;
      for (const target of await importedEntries(file)) {
        if (UPPER.includes(target)) offending.push(`${path.relative(__dirname, file)} imports ${target}`);
      }
    }
  }
  expect(checked).toBeGreaterThan(5);
  expect(offending).toEqual([]);
});

test('the import reader sees the graders importing the networks', async () => {
  expect(await importedEntries(path.join(__dirname, 'graders', 'digits.ts'))).toEqual(expect.arrayContaining(['files.ts', 'networks']));
});
