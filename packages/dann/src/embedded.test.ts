import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDomain, resolveDomain } from './data';

describe('default data: the embedded sets of @dlcv/core', () => {
  let cacheDir: string;
  beforeAll(async () => {
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dann-embedded-'));
  });
  afterAll(async () => {
    await fs.rm(cacheDir, { recursive: true, force: true });
  });

  it.each([
    ['mnistm', 'mnistm', 'mnistm (embedded)'],
    ['svhn', 'syndigits', 'svhn (embedded syndigits stand-in)'],
    ['usps', 'usps-like', 'usps (embedded usps-like stand-in)'],
  ] as const)('%s comes from the %s set, read as 28x28 grayscale', async (domain, set, label) => {
    const folder = await resolveDomain(domain, { cacheDir, embeddedLimit: 20 });
    expect(path.dirname(folder.dir)).toBe(path.join(cacheDir, 'digits'));
    expect(path.basename(folder.dir).startsWith(set)).toBe(true);
    expect(folder.label).toBe(label);
    // the same folder given through --data still says which set it is (its manifest.json)
    const root = path.join(cacheDir, `root-${domain}`);
    await fs.mkdir(root, { recursive: true });
    await fs.symlink(folder.dir, path.join(root, domain));
    await fs.mkdir(path.join(root, 'mnistm'), { recursive: true });
    expect((await resolveDomain(domain, { root })).label).toBe(label);
    const train = await openDomain(folder, 'train', 28);
    expect(train.length + (await openDomain(folder, 'val', 28)).length).toBe(20);
    // 80/20 split, except mnistm, whose val.csv holds the digits usps-like is made from: 5 of
    // the first 20 with the default seed.
    expect(train.length).toBe(domain === 'mnistm' ? 15 : 16);
    expect(train.shape).toEqual({ height: 28, width: 28, channels: 1 });
    expect((await train.getPixels(0)).length).toBe(784);
  });
});
