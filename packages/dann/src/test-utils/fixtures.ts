/**
 * Tiny digits folders in the homework layout for tests: `<root>/{mnistm,svhn,usps}/data/*.png`,
 * train.csv, val.csv. Each image is a size x size picture whose bright row is its label's row
 * (mod size) on a domain-specific background, so a tiny network can learn something and the two
 * domains differ; pixels come from a seeded Rng, so fixtures are the same on every run.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng, writePng, type RawImage } from '@dlcv/core';
import type { TrainConfig } from '../config';
import type { Domain } from '../data';

export interface FixtureOptions {
  size?: number;
  train?: number;
  val?: number;
  seed?: number;
}

export function fixtureImage(domain: Domain, label: number, size: number, rng: Rng): RawImage {
  const channels = domain === 'usps' ? 1 : 3;
  const base = domain === 'mnistm' ? 60 : domain === 'svhn' ? 150 : 10;
  const data = new Uint8Array(size * size * channels);
  const row = label % size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < channels; c++) {
        const ink = y === row ? 90 : 0;
        data[(y * size + x) * channels + c] = Math.min(255, base + ink + rng.int(40));
      }
    }
  }
  return { width: size, height: size, channels, data };
}

export async function writeDomain(dir: string, domain: Domain, options: FixtureOptions = {}): Promise<void> {
  const { size = 8, train = 40, val = 16, seed = 1 } = options;
  const rng = new Rng(seed, domain.length * 31 + domain.charCodeAt(0));
  await fs.mkdir(path.join(dir, 'data'), { recursive: true });
  const rows: string[] = [];
  for (let i = 0; i < train + val; i++) {
    const label = i % 10;
    const name = `${String(i).padStart(5, '0')}.png`;
    await writePng(path.join(dir, 'data', name), fixtureImage(domain, label, size, rng));
    rows.push(`${name},${label}`);
  }
  await fs.writeFile(path.join(dir, 'train.csv'), ['image_name,label', ...rows.slice(0, train)].join('\n') + '\n');
  await fs.writeFile(path.join(dir, 'val.csv'), ['image_name,label', ...rows.slice(train)].join('\n') + '\n');
}

/** A temp `digits` root with all three domains. */
export async function makeDigitsRoot(options: FixtureOptions = {}): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'dann-test-'));
  for (const d of ['mnistm', 'svhn', 'usps'] as const) await writeDomain(path.join(root, d), d, options);
  return root;
}

/** The report's architecture shrunk to run in milliseconds on the pure-JS engine. */
export function tinyConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    net: { imageSize: 8, inChannels: 1, conv1: 2, conv2: 4, features: 8, hidden: 4, dropout: 0.5, classes: 10 },
    epochs: 2,
    batchSize: 8,
    lr: 1e-2,
    heldOutFraction: 0.2,
    gamma: 10,
    seed: 3,
    trainLimit: null,
    saveEvery: 50,
    ...overrides,
  };
}
