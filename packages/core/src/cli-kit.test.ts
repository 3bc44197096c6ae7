import { intFlag, runCli, UsageError, type Command } from './cli-kit';

describe('CLI frame', () => {
  const seen: unknown[] = [];
  const echo: Command = {
    name: 'echo',
    summary: 'echoes',
    usage: 'echo [--times N] WORD',
    flags: { times: { type: 'string' } },
    needsEngine: false,
    async run({ flags, positionals }) {
      seen.push({ times: intFlag(flags.times, 'times', 1), positionals });
    },
  };
  let out: jest.SpyInstance, err: jest.SpyInstance;
  beforeEach(() => {
    seen.length = 0;
    out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    out.mockRestore();
    err.mockRestore();
  });

  it('runs a command with its flags and positionals', async () => {
    expect(await runCli('prog', [echo], ['echo', '--times', '3', 'hi'])).toBe(0);
    expect(seen).toEqual([{ times: 3, positionals: ['hi'] }]);
  });

  it('rejects an unknown command, an unknown flag and a bad number, with exit codes 1 and 2', async () => {
    expect(await runCli('prog', [echo], ['ecko'])).toBe(1);
    expect(err.mock.calls.flat().join('\n')).toMatch(/unknown command "ecko"/);
    expect(await runCli('prog', [echo], ['echo', '--tims', '3'])).toBe(2);
    expect(err.mock.calls.flat().join('\n')).toMatch(/prog echo: .*--tims[\s\S]*usage: prog echo/);
    expect(await runCli('prog', [echo], ['echo', '--times', 'many'])).toBe(2);
    expect(err.mock.calls.flat().join('\n')).toMatch(/--times must be a non-negative integer, got "many"/);
    expect(seen).toEqual([]);
  });

  it('prints help listing the commands', async () => {
    expect(await runCli('prog', [echo], ['--help'])).toBe(0);
    expect(out.mock.calls.flat().join('\n')).toMatch(/echo {2}echoes/);
    expect(() => intFlag('x', 'n', 0)).toThrow(UsageError);
  });
});
