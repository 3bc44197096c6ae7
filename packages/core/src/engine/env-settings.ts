// The engines' environment variables, the values each takes, read and checked in one place.
// setupEngine checks them all before it loads an engine: a mistyped value stops the command with
// the variable's name, instead of being taken for the default or making an engine fail to load
// and be passed over. Unset or empty: the default, which each reader gives.

/** The variables that take one of a few words, and those words. */
export const ENV_CHOICES = {
  // libtorch engine (engine/torch/index.ts)
  DLCV_TORCH_DEVICE: ['cpu', 'cuda'],
  DLCV_TF32: ['0', '1'],
  DLCV_TORCH_DETERMINISTIC: ['0', '1'],
  DLCV_TORCH_QUEUE: ['0', '1'],
  DLCV_TORCH_CONV_LAYOUT: ['nhwc', 'nchw'],
  DLCV_TORCH_ONEDNN: ['0', '1'],
  DLCV_TORCH_ADAM: ['fused', 'foreach'],
  DLCV_STEP_REPLAY: ['0', '1'],
  // every engine (nn/backward-pass.ts)
  DLCV_GRADIENT_RELEASE: ['0', '1'],
  DLCV_BACKWARD_PASS: ['dlcv', 'tfjs'],
} as const;

export type EnvChoiceName = keyof typeof ENV_CHOICES;
export type EnvChoice<N extends EnvChoiceName> = (typeof ENV_CHOICES)[N][number];

/** `raw` as a value of `name`: undefined when unset or empty, an error naming the variable when not one of its words. */
export function parseEnvChoice<N extends EnvChoiceName>(name: N, raw: string | undefined): EnvChoice<N> | undefined {
  if (raw === undefined || raw === '') return undefined;
  const words: readonly string[] = ENV_CHOICES[name];
  if (!words.includes(raw)) throw new Error(`${name} must be ${words.join(' or ')}, not "${raw}"`);
  return raw as EnvChoice<N>;
}

export function envChoice<N extends EnvChoiceName>(name: N, env: NodeJS.ProcessEnv = process.env): EnvChoice<N> | undefined {
  return parseEnvChoice(name, env[name]);
}

/** DLCV_THREADS, the engines' thread count: a positive integer, or undefined (every core) when unset or empty. */
export function envThreads(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.DLCV_THREADS;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new Error(`DLCV_THREADS must be a positive integer, not "${raw}"`);
  return Number(raw);
}

/** DLCV_POOL_MAX_MB, the native engine's cap on pooled free buffers: a number >= 0, or undefined when unset or empty. */
export function envPoolMaxMb(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.DLCV_POOL_MAX_MB;
  if (raw === undefined || raw === '') return undefined;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`DLCV_POOL_MAX_MB must be a number of MiB >= 0, not "${raw}"`);
  return mb;
}

/** Checks every engine variable; the first bad one's error. */
export function checkEngineEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of Object.keys(ENV_CHOICES) as EnvChoiceName[]) envChoice(name, env);
  envThreads(env);
  envPoolMaxMb(env);
}
