// The engines' environment variables (env-settings.ts): each takes its values, unset or empty is
// the default, anything else is an error naming the variable; setupEngine checks them first.
import { checkEngineEnv, ENV_CHOICES, envChoice, envPoolMaxMb, envThreads, type EnvChoiceName } from './env-settings';
import { setupEngine } from './engine';

describe('engine environment variables', () => {
  test('a variable of a few words takes each of them; unset or empty is undefined (the default); another value names the variable and its words', () => {
    expect(envChoice('DLCV_TF32', { DLCV_TF32: '1' })).toBe('1');
    expect(envChoice('DLCV_TF32', { DLCV_TF32: '0' })).toBe('0');
    expect(envChoice('DLCV_TF32', {})).toBeUndefined();
    expect(envChoice('DLCV_TF32', { DLCV_TF32: '' })).toBeUndefined();
    expect(() => envChoice('DLCV_TF32', { DLCV_TF32: '2' })).toThrow('DLCV_TF32 must be 0 or 1, not "2"');
    expect(() => envChoice('DLCV_TF32', { DLCV_TF32: 'on' })).toThrow('DLCV_TF32 must be 0 or 1, not "on"');
    expect(envChoice('DLCV_TORCH_DEVICE', { DLCV_TORCH_DEVICE: 'cuda' })).toBe('cuda');
    expect(() => envChoice('DLCV_TORCH_DEVICE', { DLCV_TORCH_DEVICE: 'gpu' })).toThrow('DLCV_TORCH_DEVICE must be cpu or cuda, not "gpu"');
    expect(() => envChoice('DLCV_BACKWARD_PASS', { DLCV_BACKWARD_PASS: 'TFJS' })).toThrow('DLCV_BACKWARD_PASS must be dlcv or tfjs, not "TFJS"');
    for (const name of Object.keys(ENV_CHOICES) as EnvChoiceName[]) {
      for (const word of ENV_CHOICES[name]) expect(envChoice(name, { [name]: word })).toBe(word);
      expect(() => envChoice(name, { [name]: 'x' })).toThrow(new RegExp(`^${name} must be `));
    }
  });

  test('DLCV_THREADS is a positive integer and DLCV_POOL_MAX_MB a number >= 0', () => {
    expect(envThreads({ DLCV_THREADS: '2' })).toBe(2);
    expect(envThreads({})).toBeUndefined();
    expect(envThreads({ DLCV_THREADS: '' })).toBeUndefined();
    for (const bad of ['0', '-1', '1.5', 'two', '2x']) expect(() => envThreads({ DLCV_THREADS: bad })).toThrow(`DLCV_THREADS must be a positive integer, not "${bad}"`);
    expect(envPoolMaxMb({ DLCV_POOL_MAX_MB: '0' })).toBe(0);
    expect(envPoolMaxMb({ DLCV_POOL_MAX_MB: '1.5' })).toBe(1.5);
    expect(envPoolMaxMb({})).toBeUndefined();
    for (const bad of ['-1', 'lots', 'Infinity']) expect(() => envPoolMaxMb({ DLCV_POOL_MAX_MB: bad })).toThrow(`DLCV_POOL_MAX_MB must be a number of MiB >= 0, not "${bad}"`);
  });

  test('checkEngineEnv passes the defaults and stops at a bad value of any of them', () => {
    expect(() => checkEngineEnv({})).not.toThrow();
    expect(() => checkEngineEnv({ DLCV_TF32: '1', DLCV_THREADS: '4', DLCV_STEP_REPLAY: '1', DLCV_POOL_MAX_MB: '64' })).not.toThrow();
    expect(() => checkEngineEnv({ DLCV_STEP_REPLAY: 'yes' })).toThrow('DLCV_STEP_REPLAY must be 0 or 1, not "yes"');
    expect(() => checkEngineEnv({ DLCV_GRADIENT_RELEASE: 'off' })).toThrow('DLCV_GRADIENT_RELEASE must be 0 or 1, not "off"');
    expect(() => checkEngineEnv({ DLCV_THREADS: 'all' })).toThrow('DLCV_THREADS must be a positive integer, not "all"');
  });

  test('setupEngine refuses a bad value before it loads an engine', async () => {
    const saved = process.env.DLCV_TF32;
    process.env.DLCV_TF32 = 'true';
    try {
      await expect(setupEngine({ engine: 'cpu' })).rejects.toThrow('DLCV_TF32 must be 0 or 1, not "true"');
    } finally {
      if (saved === undefined) delete process.env.DLCV_TF32;
      else process.env.DLCV_TF32 = saved;
    }
  });
});
