import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setupEngine, UsageError, writePng } from '@dlcv/core';
import { trainCommand } from './commands/train';
import { openTrainingData } from './data';
import { tempDir, writeDigitsFolder, writeImageFolder } from './test-utils/fixtures';

let tmp: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  tmp = await tempDir('data');
  await writeImageFolder(path.join(tmp, 'faces'), 5);
  await writeDigitsFolder(path.join(tmp, 'mnistm'), 6);
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
  jest.restoreAllMocks();
});

describe('openTrainingData', () => {
  it('without data says that faces are needed, where they come from, and offers the digits demo', async () => {
    await expect(openTrainingData({})).rejects.toThrow(/hw2_data\/face\/train[\s\S]*--data hw2_data\/face\/train[\s\S]*--demo-digits/);
  });

  it('reads a face folder as 64x64 RGB, with --limit', async () => {
    const { dataset } = await openTrainingData({ data: path.join(tmp, 'faces') });
    expect(dataset.length).toBe(5);
    expect(dataset.shape).toEqual({ height: 64, width: 64, channels: 3 });
    expect((await openTrainingData({ data: path.join(tmp, 'faces'), limit: 2 })).dataset.length).toBe(2);
  });

  it('reads a digits folder (data/ + train.csv) resized to 64x64', async () => {
    const { dataset, description } = await openTrainingData({ data: path.join(tmp, 'mnistm'), limit: 4 });
    expect(dataset.length).toBe(4);
    expect(description).toMatch(/resized to 64x64/);
    const batch = await dataset.getBatch([0, 3]);
    expect(batch.x.shape).toEqual([2, 64, 64, 3]);
    batch.x.dispose();
    batch.y?.dispose();
  });

  it('names the file of an image of the wrong size, unless --resize', async () => {
    const dir = path.join(tmp, 'odd');
    await writeImageFolder(dir, 2);
    await writePng(path.join(dir, '00001.png'), { width: 32, height: 32, channels: 3, data: new Uint8Array(32 * 32 * 3) });
    const { dataset } = await openTrainingData({ data: dir });
    await expect(dataset.getBatch([0, 1])).rejects.toThrow(/00001\.png: expected 64x64 pixels, got 32x32/);
    const resized = (await openTrainingData({ data: dir, resize: true })).dataset;
    const batch = await resized.getBatch([0, 1]);
    expect(batch.x.shape).toEqual([2, 64, 64, 3]);
    batch.x.dispose();
  });

  it('names a missing folder', async () => {
    await expect(openTrainingData({ data: path.join(tmp, 'nope') })).rejects.toThrow(/nope: image folder not found/);
  });
});

describe('train command', () => {
  beforeEach(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  it('without data exits with a usage error that explains how to get faces', async () => {
    const run = trainCommand.invoke(['--engine', 'cpu']);
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(/^no training images given\. Problem 1 trains on faces/);
  });

  it('rejects an unknown model or preset', async () => {
    await expect(trainCommand.invoke(['--engine', 'cpu', '--model', 'C', '--data', path.join(tmp, 'faces')])).rejects.toThrow('--model must be one of A, B, got "C"');
    await expect(trainCommand.invoke(['--engine', 'cpu', '--preset', 'fast', '--data', path.join(tmp, 'faces')])).rejects.toThrow(
      '--preset must be one of report, tutorial, got "fast"',
    );
  });

  it('names every face that cannot be used before the run folder is made', async () => {
    const dir = path.join(tmp, 'broken-faces');
    await writeImageFolder(dir, 6);
    const names = (await fs.readdir(dir)).sort();
    await fs.writeFile(path.join(dir, names[4] as string), 'not a png');
    await writePng(path.join(dir, names[1] as string), { width: 32, height: 32, channels: 3, data: new Uint8Array(32 * 32 * 3) });
    const out = path.join(tmp, 'broken-run');
    const err = (await trainCommand.invoke(['--engine', 'cpu', '--data', dir, '--out', out, '--batch', '2']).catch((e: unknown) => e)) as Error;
    const lines = err.message.split('\n');
    expect(lines.slice(0, 2)).toEqual(['2 of 6 images cannot be used (mend or remove them):', `  ${path.join(dir, names[1] as string)}: expected 64x64 pixels, got 32x32`]);
    expect(lines[2]).toMatch(new RegExp(`^  ${path.join(dir, names[4] as string)}: not a readable image`));
    expect(lines).toHaveLength(3);
    expect(await fs.stat(out).catch(() => 'absent')).toBe('absent');
  });

  it('--gpu on an engine whose tensors live on the CPU says first that the run is sized for a GPU', async () => {
    await expect(trainCommand.invoke(['--engine', 'cpu', '--gpu'])).rejects.toThrow(/^no training images given/);
    const lines = jest.mocked(console.log).mock.calls.map((c) => String(c[0]));
    const engineLine = lines.findIndex((l) => l.startsWith('engine: cpu'));
    expect(engineLine).toBeGreaterThanOrEqual(0);
    const note = lines.findIndex((l) => l.startsWith('note: the --gpu run is sized for a GPU engine (README "Training on a GPU"); the cpu engine runs it on the CPU'));
    expect(note).toBeGreaterThan(engineLine);
  });

  it('without --gpu adds no such note', async () => {
    await expect(trainCommand.invoke(['--engine', 'cpu'])).rejects.toThrow(/^no training images given/);
    expect(
      jest
        .mocked(console.log)
        .mock.calls.map((c) => String(c[0]))
        .some((l) => l.includes('sized for a GPU')),
    ).toBe(false);
  });
});
