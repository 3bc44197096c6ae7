import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, writePng } from '@dlcv/core';
import { dannCommand } from './dann';
import { digitsCommand } from './digits';
import { fidCommand } from './fid';
import { reportCommand } from './report';

let dir: string;
let out: string[];
let err: string[];
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-cli-'));
  out = [];
  err = [];
  jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(async () => {
  jest.restoreAllMocks();
  await fs.rm(dir, { recursive: true, force: true });
});

const cli = (...argv: string[]) => runCli({ name: 'dlcv-eval', version: '0.0.0-test' }, [digitsCommand, dannCommand, fidCommand, reportCommand], argv);

test('dann --json prints the result as JSON; without it, a summary', async () => {
  const truth = path.join(dir, 't.csv'),
    pred = path.join(dir, 'p.csv');
  await fs.writeFile(truth, 'image_name,label\na.png,1\nb.png,2\n');
  await fs.writeFile(pred, 'image_name,label\na.png,1\nb.png,3\n');
  expect(await cli('dann', pred, truth, '--json')).toBe(0);
  expect(JSON.parse(out.join('\n'))).toMatchObject({ grader: 'dann', total: 2, correct: 1, accuracy: 0.5 });
  out = [];
  expect(await cli('dann', pred, truth)).toBe(0);
  expect(out.join('\n')).toMatch(/accuracy: 50\.00% \(1\/2\)/);
});

test('usage errors exit with 2, input errors with 1, each as one clear line', async () => {
  expect(await cli('dann', 'only-one.csv')).toBe(2);
  expect(err.join('\n')).toMatch(/expected <pred\.csv> <truth\.csv>, got 1 argument \(only-one\.csv\)/);
  err = [];
  expect(await cli('fid', 'a', 'b', '--features', 'vgg')).toBe(2);
  expect(err.join('\n')).toMatch(/--features must be one of inception, digit-classifier, face-descriptor/);
  err = [];
  expect(await cli('digits', path.join(dir, 'missing'))).toBe(1);
  expect(err.join('\n')).toMatch(/missing: folder not found/);
});

test('digits on an incomplete set (25 images of 2 classes) exits non-zero naming what is missing; --allow-partial grades and says so', async () => {
  const folder = path.join(dir, 'partial');
  await fs.mkdir(folder);
  const image = { width: 28, height: 28, channels: 3 as const, data: new Uint8Array(28 * 28 * 3) };
  for (let k = 1; k <= 25; k++) await writePng(path.join(folder, `${k <= 12 ? 0 : 1}_${String(k).padStart(3, '0')}.png`), image);
  expect(await cli('digits', folder)).toBe(1);
  expect(err.join('\n')).toMatch(/not the expected set of 10 classes x 100 images \(found 25; 0: 12 of 100, 1: 13 of 100, 2: missing, .*9: missing\)/);
  expect(out).toEqual([]);
  expect(await cli('digits', folder, '--allow-partial')).toBe(0);
  expect(out.join('\n')).toMatch(/accuracy: [\d.]+% \(\d+\/25\)/);
  expect(out.join('\n')).toMatch(/PARTIAL SET \(--allow-partial\): expected 10 classes x 100 images, graded 25; 0: 12 of 100, 1: 13 of 100, 2: missing/);
  expect(await cli('digits', folder, '--expect', 'ten')).toBe(2);
});

test('dann --save writes the result with its command and the homework baseline of the target named by the truth path; report shows it', async () => {
  const truth = path.join(dir, 'usps', 'val.csv'),
    pred = path.join(dir, 'p.csv');
  await fs.mkdir(path.dirname(truth));
  await fs.writeFile(truth, 'image_name,label\na.png,1\nb.png,2\nc.png,3\nd.png,4\n');
  await fs.writeFile(pred, 'image_name,label\na.png,1\nb.png,2\nc.png,3\nd.png,5\n');
  const saved = path.join(dir, 'results', 'dann-usps.json');
  expect(await cli('dann', pred, truth, '--save', saved)).toBe(0);
  const result = JSON.parse(await fs.readFile(saved, 'utf8')) as Record<string, unknown>;
  expect(result).toMatchObject({ grader: 'dann', accuracy: 0.75, homework: { problem: '3', value: 0.75, simple: 0.76, strong: 0.76, higherIsBetter: true } });
  expect(typeof result.command).toBe('string');
  out = [];
  expect(await cli('report', path.join(dir, 'results'))).toBe(0);
  const index = path.join(dir, 'results', 'report', 'index.html');
  expect(out.join('\n')).toContain(`report: ${index}`);
  const data = await fs.readFile(path.join(dir, 'results', 'report', 'data.js'), 'utf8');
  expect(data).toContain('"below simple"');
  expect(await cli('report', pred)).toBe(1);
  expect(err.join('\n')).toContain(`${pred}: not valid JSON`);
});
