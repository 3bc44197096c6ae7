// The face grader on a machine where dlib's addon is not built: loadDlib answers as it does then.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gradeFaces } from './face';

const REASON = "dlib's detector is not built: DLCV_SKIP_DLIB=1";
jest.mock('../networks/dlib-hog', () => ({ ...jest.requireActual('../networks/dlib-hog'), loadDlib: () => ({ ok: false, reason: REASON }) }));

const FIXTURES = path.join(__dirname, '..', '..', 'test-fixtures');
let folder: string;
beforeAll(async () => {
  folder = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-face-fallback-'));
  await fs.copyFile(path.join(FIXTURES, 'faces/astronaut.png'), path.join(folder, 'a.png'));
});
afterAll(async () => {
  await fs.rm(folder, { recursive: true, force: true });
});

test('the default detector is then face-api, and the result says why', async () => {
  const r = await gradeFaces(folder, { minImages: 1 });
  expect(r.detector).toMatchObject({ kind: 'face-api', sameAsAssignment: false, fallback: REASON });
  expect(r.exactlyOne).toBe(1);
});

test('asking for dlib is then an error that says why and how to build it', async () => {
  await expect(gradeFaces(folder, { minImages: 1, detector: 'dlib' })).rejects.toThrow(
    `--detector dlib: ${REASON}; once libdlib-dev is installed, build it with pnpm --filter @dlcv/eval build:dlib`,
  );
});
