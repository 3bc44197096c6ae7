import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeDir, OutputPathError, writeFileAtomic } from './files';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-files-'));
});
afterAll(async () => {
  jest.restoreAllMocks();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('makeDir', () => {
  it('makes missing parents, and accepts a folder that exists', async () => {
    const dir = path.join(tmp, 'a', 'b', 'c');
    await makeDir(dir);
    await makeDir(dir);
    expect((await fs.stat(dir)).isDirectory()).toBe(true);
  });

  it('refuses a path through a file, naming it', async () => {
    const file = path.join(tmp, 'plain');
    await fs.writeFile(file, 'x');
    await expect(makeDir(path.join(file, 'sub', 'x'))).rejects.toThrow(`${file}: exists and is not a folder`);
  });

  it('fails at once, naming the folder, where the filesystem cannot hold one (no endless loop under /proc)', async () => {
    const started = Date.now();
    const err = (await makeDir('/proc/dlcv-out/x').catch((e: unknown) => e)) as OutputPathError;
    expect(err).toBeInstanceOf(OutputPathError);
    expect(err.message).toMatch(/^\/proc\/dlcv-out: cannot create this folder: .*\(E[A-Z]+\)$/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('writeFileAtomic', () => {
  it('writes through a temp file and leaves only the file', async () => {
    const file = path.join(tmp, 'out', 'a.bin');
    await writeFileAtomic(file, Buffer.from([1, 2, 3]));
    expect([...(await fs.readFile(file))]).toEqual([1, 2, 3]);
    expect(await fs.readdir(path.dirname(file))).toEqual(['a.bin']);
  });

  it('names the file and the reason when the disk is full, and removes its temp file', async () => {
    const dir = path.join(tmp, 'full');
    await makeDir(dir);
    const realOpen = fs.open;
    // A disk that fills while the data is written: the handle's writeFile fails with ENOSPC.
    const spy = jest.spyOn(fs, 'open').mockImplementation(async (...args: Parameters<typeof fs.open>) => {
      const handle = await realOpen(...args);
      handle.writeFile = async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      return handle;
    });
    const file = path.join(dir, '0_001.png');
    await expect(writeFileAtomic(file, Buffer.alloc(10))).rejects.toThrow(`${file}: cannot write: no space left on the device (ENOSPC)`);
    spy.mockRestore();
    expect(await fs.readdir(dir)).toEqual([]);
  });
});
