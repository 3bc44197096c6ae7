import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JsonFileError, readJsonFile, z } from './json-file';

describe('readJsonFile', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-json-'));
  });
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });
  const schema = z.object({ n: z.number().int(), unet: z.object({ groups: z.array(z.number()) }) });

  it('returns the checked value', async () => {
    const file = path.join(tmp, 'ok.json');
    await fs.writeFile(file, '{"n": 3, "unet": {"groups": [1, 2]}, "extra": 1}');
    expect(await readJsonFile(file, schema)).toEqual({ n: 3, unet: { groups: [1, 2] } });
  });

  it('names the file and each bad field, a missing file and invalid JSON', async () => {
    const bad = path.join(tmp, 'bad.json');
    await fs.writeFile(bad, '{"n": 1.5, "unet": {"groups": [1, "x"]}}');
    await expect(readJsonFile(bad, schema)).rejects.toThrow(
      new JsonFileError(bad, 'n: Invalid input: expected int, received number; unet.groups[1]: Invalid input: expected number, received string'),
    );
    const missing = path.join(tmp, 'none.json');
    await expect(readJsonFile(missing, schema, { missing: 'not found (train first)' })).rejects.toThrow(`${missing}: not found (train first)`);
    const broken = path.join(tmp, 'broken.json');
    await fs.writeFile(broken, '{"n": ');
    await expect(readJsonFile(broken, schema)).rejects.toThrow(new RegExp(`^${broken}: invalid JSON`));
  });
});
