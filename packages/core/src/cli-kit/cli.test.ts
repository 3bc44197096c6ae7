import * as path from 'node:path';
import { defineCommand, runCli } from './command';
import * as flag from './flags';
import { UsageError } from './flags';
import { isOutOfMemory } from './out-of-memory';
import { userPath } from './paths';

const PROGRAM = { name: 'prog', version: '1.2.3' };

describe('CLI frame', () => {
  const seen: unknown[] = [];
  const echo = defineCommand({
    name: 'echo',
    summary: 'echoes',
    flags: {
      times: flag.int({ help: 'how often', default: 1, min: 1, max: 9 }),
      scale: flag.float({ help: 'a factor' }),
      mode: flag.choice(['loud', 'soft'], { help: 'voice', default: 'soft' }),
      t: flag.intList({ help: 'times', default: [0, 5] }),
      out: flag.path({ help: 'where', metavar: 'DIR' }),
      dry: flag.bool({ help: 'do nothing' }),
    },
    positionals: [
      { name: 'word', help: 'what to say' },
      { name: 'file', help: 'a file', optional: true, path: true },
    ],
    needsEngine: false,
    async run({ flags, positionals }) {
      // The parsed types: number, number | undefined, 'loud' | 'soft', number[], string | undefined, boolean.
      const typed: { times: number; scale: number | undefined; mode: 'loud' | 'soft'; t: number[]; out: string | undefined; dry: boolean } = flags;
      seen.push({ ...typed, positionals });
    },
  });
  let out: jest.SpyInstance, err: jest.SpyInstance;
  const printed = (spy: jest.SpyInstance) => spy.mock.calls.flat().join('\n');
  beforeEach(() => {
    seen.length = 0;
    out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    out.mockRestore();
    err.mockRestore();
  });

  it('gives a variadic last positional every remaining argument, resolved as paths, and wants at least one', async () => {
    const many = defineCommand({
      name: 'many',
      summary: 'takes folders',
      flags: {},
      positionals: [{ name: 'dir', help: 'folders', path: true, variadic: true }],
      needsEngine: false,
      async run({ positionals }) {
        seen.push(positionals);
      },
    });
    expect(await runCli(PROGRAM, [many], ['many', 'a', 'b', 'c'])).toBe(0);
    expect(seen[0]).toEqual(['a', 'b', 'c'].map((p) => userPath(p)));
    expect(await runCli(PROGRAM, [many], ['many'])).toBe(2);
    expect(printed(err)).toContain('usage: prog many <dir>...');
  });

  it('parses each flag to its type, with defaults for the absent ones', async () => {
    expect(await runCli(PROGRAM, [echo], ['echo', '--times', '3', '--scale=-0.5', '--mode', 'loud', '--t', '1,20', '--dry', 'hi'])).toBe(0);
    expect(seen).toEqual([{ times: 3, scale: -0.5, mode: 'loud', t: [1, 20], out: undefined, dry: true, positionals: ['hi'] }]);
    expect(await runCli(PROGRAM, [echo], ['echo', 'hi'])).toBe(0);
    expect(seen[1]).toEqual({ times: 1, scale: undefined, mode: 'soft', t: [0, 5], out: undefined, dry: false, positionals: ['hi'] });
  });

  it('resolves path flags and path positionals against INIT_CWD when pnpm sets it, else the working folder', async () => {
    const saved = process.env.INIT_CWD;
    try {
      process.env.INIT_CWD = '/somewhere/else';
      expect(await runCli(PROGRAM, [echo], ['echo', '--out', 'runs/x', 'hi', 'f.png'])).toBe(0);
      expect(seen[0]).toMatchObject({ out: '/somewhere/else/runs/x', positionals: ['hi', '/somewhere/else/f.png'] });
      delete process.env.INIT_CWD;
      expect(userPath('a')).toBe(path.resolve('a'));
      expect(userPath('/abs')).toBe('/abs');
    } finally {
      if (saved === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = saved;
    }
  });

  it('rejects bad values, unknown flags and wrong argument counts with exit code 2 and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [['echo', '--times', 'many', 'hi'], /--times must be an integer in 1\.\.9, got "many"/],
      [['echo', '--times', '12', 'hi'], /--times must be in 1\.\.9, got 12/],
      [['echo', '--scale', '1e', 'hi'], /--scale must be a number, got "1e"/],
      [['echo', '--mode', 'shout', 'hi'], /--mode must be one of loud, soft, got "shout"/],
      [['echo', '--t', '1,,2', 'hi'], /--t must be a comma-separated list/],
      [['echo', '--tims', '3', 'hi'], /--tims/],
      [['echo'], /expected <word> \[<file>\], got 0 arguments/],
      [['echo', 'a', 'b', 'c'], /got 3 arguments \(a b c\)/],
    ];
    for (const [argv, message] of cases) {
      err.mockClear();
      expect(await runCli(PROGRAM, [echo], argv)).toBe(2);
      expect(printed(err)).toMatch(message);
      expect(printed(err)).toMatch(/usage: prog echo <word> \[<file>\]/);
    }
    expect(seen).toEqual([]);
  });

  it('exits 1 on an unknown command and on a failing command, naming the command', async () => {
    expect(await runCli(PROGRAM, [echo], ['ecko'])).toBe(1);
    expect(printed(err)).toMatch(/unknown command "ecko"/);
    const failing = defineCommand({ name: 'fail', summary: 'fails', flags: {}, needsEngine: false, run: async () => Promise.reject(new Error('disk full')) });
    expect(await runCli(PROGRAM, [failing], ['fail'])).toBe(1);
    expect(printed(err)).toMatch(/^prog fail: disk full$/m);
  });

  it('adds a line naming the batch flags and their values to an out-of-memory error, and to no other', async () => {
    const failWith = (message: string) =>
      defineCommand({
        name: 'sample',
        summary: 'samples',
        flags: { batch: flag.int({ help: 'images a forward', default: 100 }), 'train-batch': flag.int({ help: 'b', shown: "the preset's" }), seed: flag.int({ help: 's' }) },
        needsEngine: false,
        run: async () => Promise.reject(Object.assign(new Error(message), { code: 'DLCV_EARLIER_OP_FAILED' })),
      });
    const cuda = 'download: an input was not made: its op failed (conv2d: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB)';
    expect(await runCli(PROGRAM, [failWith(cuda)], ['sample', '--batch', '1000'])).toBe(1);
    const lines = printed(err).split('\n');
    expect(lines[0]).toBe(`prog sample: ${cuda}`);
    expect(lines[1]).toMatch(/^out of memory: this run had --batch 1000, --train-batch the preset's; a smaller value needs less/);
    expect(lines).toHaveLength(2);
    err.mockClear();
    expect(await runCli(PROGRAM, [failWith('binary: The size of tensor a (2) must match the size of tensor b (3)')], ['sample'])).toBe(1);
    expect(printed(err)).not.toMatch(/smaller value/);
    // a command with no batch flag: the error alone
    err.mockClear();
    const noBatch = defineCommand({ name: 'grade', summary: 'g', flags: {}, needsEngine: false, run: async () => Promise.reject(new Error(cuda)) });
    expect(await runCli(PROGRAM, [noBatch], ['grade'])).toBe(1);
    expect(printed(err)).toBe(`prog grade: ${cuda}`);
  });

  it.each([
    ['CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 7.79 GiB total capacity)', true],
    ['CUDA error: out of memory', true],
    ['cuDNN error: CUDNN_STATUS_ALLOC_FAILED', true],
    ['CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`', true],
    ["DefaultCPUAllocator: can't allocate memory: you tried to allocate 640000000000 bytes. Error code 12 (Cannot allocate memory)", true],
    ['std::bad_alloc', true],
    ['Array buffer allocation failed', true],
    ['disk full', false],
    ['The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0', false],
    ['Invalid typed array length: 160000000000', false],
  ])('isOutOfMemory(%j) is %s', (message, expected) => {
    expect(isOutOfMemory(message)).toBe(expected);
  });

  it('generates usage and help from the declarations, and prints the version', async () => {
    expect(echo.usage).toBe('echo <word> [<file>] [--times N] [--scale X] [--mode loud|soft] [--t N,N,...] [--out DIR] [--dry]');
    expect(await runCli(PROGRAM, [echo], ['echo', '--help'])).toBe(0);
    const help = printed(out);
    expect(help).toMatch(/--times N +how often \(default: 1\)/);
    expect(help).toMatch(/--mode loud\|soft +voice \(default: soft\)/);
    expect(help).toMatch(/--scale X +a factor$/m);
    expect(help).toMatch(/word +what to say/);
    out.mockClear();
    expect(await runCli(PROGRAM, [echo], ['--help'])).toBe(0);
    expect(printed(out)).toMatch(/echo {2}echoes/);
    out.mockClear();
    expect(await runCli(PROGRAM, [echo], ['--version'])).toBe(0);
    expect(printed(out)).toBe('prog 1.2.3');
  });

  it('marks required flags in the usage and refuses a command without them', async () => {
    const pick = defineCommand({
      name: 'pick',
      summary: 'picks',
      flags: { side: flag.required(flag.choice(['left', 'right'], { help: 'which side' })), n: flag.int({ help: 'how many', default: 1 }) },
      needsEngine: false,
      async run({ flags }) {
        const side: 'left' | 'right' = flags.side;
        seen.push(side);
      },
    });
    expect(pick.usage).toBe('pick --side left|right [--n N]');
    expect(pick.help).toMatch(/--side left\|right +which side \(required\)/);
    expect(await runCli(PROGRAM, [pick], ['pick', '--n', '2'])).toBe(2);
    expect(printed(err)).toMatch(/--side is required/);
    expect(await runCli(PROGRAM, [pick], ['pick', '--side', 'up'])).toBe(2);
    expect(await runCli(PROGRAM, [pick], ['pick', '--side', 'right'])).toBe(0);
    expect(seen).toEqual(['right']);
  });

  it('adds --engine to commands that run tensor work', () => {
    const tensorWork = defineCommand({ name: 'train', summary: 's', flags: {}, run: async () => undefined });
    expect(tensorWork.usage).toBe('train [--engine NAME]');
    expect(echo.usage).not.toMatch(/--engine/);
    expect(() => flag.int({ help: 'x' }).parse('x', 'n')).toThrow(UsageError);
  });
});
