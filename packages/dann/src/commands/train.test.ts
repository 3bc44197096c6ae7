import { runCli } from '@dlcv/core';
import { trainCommand } from './train';

describe('train command flags', () => {
  let errors: string[];
  beforeEach(() => {
    errors = [];
    jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it.each([
    [['--mode', 'dann'], /--scenario must be one of svhn, usps, got "undefined"/],
    [['--scenario', 'mnistm', '--mode', 'dann'], /--scenario must be one of svhn, usps, got "mnistm"/],
    [['--scenario', 'svhn', '--mode', 'both'], /--mode must be one of source, dann, target, got "both"/],
    [['--scenario', 'svhn', '--mode', 'dann', '--epochs', 'many'], /--epochs must be a non-negative integer/],
    [['--scenario', 'svhn', '--mode', 'dann', '--limit', '0'], /--limit must be a positive integer/],
  ])('rejects %j with a usage error', async (args, message) => {
    expect(await runCli('dlcv-dann', [trainCommand], ['train', '--engine', 'cpu', ...args])).toBe(2);
    expect(errors.join('\n')).toMatch(message);
  });

  it('rejects a zero epoch count before touching data', async () => {
    expect(await runCli('dlcv-dann', [trainCommand], ['train', '--engine', 'cpu', '--scenario', 'usps', '--mode', 'source', '--epochs', '0', '--data-root', '/nonexistent'])).toBe(1);
    expect(errors.join('\n')).toMatch(/config: epochs must be a positive integer, got 0/);
  });
});
