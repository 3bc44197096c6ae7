import { setupEngine, UsageError } from '@dlcv/core';
import { trainCommand } from './train';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

describe('train command flags', () => {
  beforeEach(() => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const invoke = (args: string[]) => trainCommand.invoke(['--engine', 'cpu', ...args]);

  it.each([
    [['--mode', 'dann'], /--scenario is required/],
    [['--scenario', 'svhn'], /--mode is required/],
    [['--scenario', 'mnistm', '--mode', 'dann'], /--scenario must be one of svhn, usps, got "mnistm"/],
    [['--scenario', 'svhn', '--mode', 'both'], /--mode must be one of source, dann, target, got "both"/],
    [['--scenario', 'svhn', '--mode', 'dann', '--epochs', 'many'], /--epochs must be an integer >= 1, got "many"/],
    [['--scenario', 'svhn', '--mode', 'dann', '--epochs', '0'], /--epochs must be >= 1, got 0/],
    [['--scenario', 'svhn', '--mode', 'dann', '--limit', '0'], /--limit must be >= 1, got 0/],
    [['--scenario', 'svhn', '--mode', 'dann', '--save-every', '0'], /--save-every must be >= 1, got 0/],
  ])('rejects %j with a usage error', async (args, message) => {
    const err = await invoke(args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  it('knows the flag names shared with the other packages, not the old ones', async () => {
    expect(trainCommand.usage).toMatch(/\[--data DIR\] \[--cache-dir DIR\] \[--out DIR\] .*\[--save-every STEPS\] \[--trace\] \[--resume\] \[--stop-at STEP\]/);
    await expect(invoke(['--scenario', 'usps', '--mode', 'dann', '--data-root', '/x'])).rejects.toThrow(/Unknown option '--data-root'/);
    await expect(invoke(['--scenario', 'usps', '--mode', 'dann', '--checkpoint-every', '5'])).rejects.toThrow(/Unknown option '--checkpoint-every'/);
  });

  it('rejects a bad setting before touching data', async () => {
    await expect(invoke(['--scenario', 'usps', '--mode', 'source', '--lr', '0', '--data', '/nonexistent'])).rejects.toThrow(/config: lr: must be positive/);
  });
});
