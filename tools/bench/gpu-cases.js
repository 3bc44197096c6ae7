// The bench's GPU rows: each package's training step and forward at the sizes the report trains
// with on a GPU (issue 13's targets), on the libtorch engine, beside the same networks in
// PyTorch on the same device (core's python/torch_reference.py, `run <case> batch=N ...`).
// Every size is a flag, so the rows also run on a CPU (libtorch's CPU build) at tiny sizes:
//   --ddpm-batch 256 --ddpm-forward-batch 2000 --n-feat 128 --gan-batch 128 --gan-models A,B
//   --dann-batch 256, and --gan-width N (ngf = ndf = N instead of each model's own)
'use strict';
const { positiveIntFlag } = require('./flag-value');

/** Sizes from the command line (`arg(name, default)` is bench.js's flag reader). */
function gpuSizes(arg) {
  const int = (name, def) => positiveIntFlag('bench', name, def, arg);
  return {
    ddpmBatch: int('ddpm-batch', 256),
    // 2000: one guided sampling step for the 1000 graded digits (conditional and unconditional halves)
    ddpmForwardBatch: int('ddpm-forward-batch', 2000),
    nFeat: int('n-feat', 128),
    ganBatch: int('gan-batch', 128),
    dannBatch: int('dann-batch', 256),
    ganModels: String(arg('gan-models', 'A,B')).split(','),
    // null: each model's own width (A 64, B 128)
    ganWidth: arg('gan-width', null) === null ? null : int('gan-width', 0),
  };
}

/** A replayed case's label, saying so when its step is not (yet) replayed. */
function replayedLabel(label, replayed) {
  if (replayed.mode === 'replaying') return label;
  return `${label} (not replayed: ${replayed.reason ?? 'not confirmed yet'})`;
}

/** A batch of DDPM conditions: timesteps, classes and a 10% dropped-class mask, as host arrays. */
function ddpmConditions(ddpm, b) {
  return ddpm.conditionArrays(
    Array.from({ length: b }, (_, i) => (i * 37) % 400),
    Array.from({ length: b }, (_, i) => i % 10),
    Array.from({ length: b }, (_, i) => (i % 10 === 0 ? 1 : 0)),
    400,
    10,
  );
}

function dcganCases(tf, core, gan, s, cases) {
  for (const model of s.ganModels) {
    if (!gan.MODEL_PRESETS[model]) throw new Error(`bench: --gan-models: no model ${model} (${Object.keys(gan.MODEL_PRESETS).join(', ')})`);
    const rng = new core.Rng(0);
    const config = s.ganWidth === null ? gan.MODEL_PRESETS[model] : { ...gan.MODEL_PRESETS[model], ngf: s.ganWidth, ndf: s.ganWidth };
    const g = { g: gan.createGenerator(config, rng.fork(1)), d: gan.createDiscriminator(config, rng.fork(2)), ...gan.createOptimizers({ ...gan.TRAIN_PRESETS.report }) };
    const b = s.ganBatch;
    const name = `DCGAN model ${model}${s.ganWidth === null ? '' : ` (width ${s.ganWidth})`}`;
    const real = tf.keep(tf.tensor4d(rng.uniformArray(b * 64 * 64 * 3, -1, 1), [b, 64, 64, 3]));
    cases[`dcgan_${model}_train`] = {
      label: `${name} train step, batch ${b}`,
      torch: `dcgan_train batch=${b} width=${config.ngf}`,
      // the gan package's step: D on real and fake, then G; it reads the losses back
      run: async () => {
        const z = gan.noiseBatch(rng, b, config.nz);
        await gan.trainStep(g, real, z);
        z.dispose();
      },
    };
    // the same step replayed (core's replayableStep, as the trainer runs it with DLCV_STEP_REPLAY=1)
    const replayed = core.replayableStep(({ z }) => gan.queueTrainStep(g, real, z), { enabled: true });
    cases[`dcgan_${model}_train_replayed`] = {
      get label() {
        return replayedLabel(`${name} train step, batch ${b}, replayed`, replayed);
      },
      torch: `dcgan_train batch=${b} width=${config.ngf}`,
      run: async () => {
        const z = gan.noiseBatch(rng, b, config.nz);
        await gan.readStepResult(replayed({ z }));
        z.dispose();
      },
      replayed,
    };
    const z = tf.keep(tf.tensor4d(rng.normalArray(b * config.nz), [b, 1, 1, config.nz]));
    cases[`dcgan_${model}_forward`] = {
      label: `${name} generator forward, batch ${b}`,
      torch: `dcgan_forward batch=${b} width=${config.ngf}`,
      // the gan package's own generation call (sampling.ts): one batch in inference mode, as
      // PyTorch's eval() forward; tfjs-layers' predict() would run it as batches of 32
      run: async () => {
        const y = tf.tidy(() => g.g.apply(z, { training: false }));
        await y.data();
        y.dispose();
      },
    };
  }
}

function ddpmCases(tf, core, ddpm, s, cases) {
  const unet = { ...ddpm.DEFAULT_UNET_CONFIG, nFeat: s.nFeat };
  const model = ddpm.createUnet(unet, 0);
  const opt = tf.train.adam(1e-4);
  const rng = new core.Rng(1);
  const b = s.ddpmBatch;
  const tr = ddpmConditions(ddpm, b);
  const xt = tf.keep(tf.tensor4d(rng.normalArray(b * 28 * 28 * 3), [b, 28, 28, 3]));
  const eps = tf.keep(tf.tensor4d(rng.normalArray(b * 28 * 28 * 3), [b, 28, 28, 3]));
  const cond = { t: tf.keep(tf.tensor2d(tr.t, [b, 1])), c: tf.keep(tf.tensor2d(tr.c, [b, 10])), mask: tf.keep(tf.tensor2d(tr.mask, [b, 1])) };
  cases.ddpm_train = {
    label: `DDPM U-Net (n_feat ${s.nFeat}) train step, batch ${b}`,
    torch: `ddpm_train batch=${b} n_feat=${s.nFeat}`,
    // the trainer's step: MSE between the noise and the prediction, Adam; it reads the loss back
    run: async () => {
      const loss = ddpm.trainingStep(model, opt, xt, eps, cond);
      await loss.data();
      loss.dispose();
    },
  };
  // the same step replayed (core's replayableStep: its addon calls again, without its JavaScript,
  // once two recorded steps agree); eager and replayed steps share the model and optimizer
  const replayed = core.replayableStep(() => ddpm.trainingStep(model, opt, xt, eps, cond), { enabled: true });
  cases.ddpm_train_replayed = {
    get label() {
      return replayedLabel(`DDPM U-Net (n_feat ${s.nFeat}) train step, batch ${b}, replayed`, replayed);
    },
    torch: `ddpm_train batch=${b} n_feat=${s.nFeat}`,
    run: async () => {
      const loss = replayed({});
      await loss.data();
      loss.dispose();
    },
    replayed,
  };
  const fb = s.ddpmForwardBatch;
  const sc = ddpmConditions(ddpm, fb);
  const sx = rng.normalArray(fb * 28 * 28 * 3);
  const net = ddpm.tfjsNoiseNet(model, unet);
  cases.ddpm_forward = {
    // the sampler's call: host arrays in, the noise prediction back on the host
    label: `DDPM U-Net forward, batch ${fb} (host in and out, as the sampler)`,
    torch: `ddpm_forward batch=${fb} n_feat=${s.nFeat}`,
    run: async () => {
      await net.predict(sx, sc);
    },
  };
  // the device sampler's call (ddpm's device-sampler.ts): the inputs already on the device and the
  // prediction left there, as PyTorch's row keeps its tensors on the GPU; one element is read
  // back, so the step waits for the forward as PyTorch's synchronize does
  const dx = tf.keep(tf.tensor4d(sx, [fb, 28, 28, 3]));
  const dc = [tf.tensor2d(sc.t, [fb, 1]), tf.tensor2d(sc.c, [fb, 10]), tf.tensor2d(sc.mask, [fb, 1])].map((t) => tf.keep(t));
  cases.ddpm_forward_device = {
    label: `DDPM U-Net forward, batch ${fb} (on the device, as the device sampler)`,
    torch: `ddpm_forward batch=${fb} n_feat=${s.nFeat}`,
    run: async () => {
      const one = tf.tidy(() => tf.slice(model.apply([dx, ...dc], { training: false }), [0, 0, 0, 0], [1, 1, 1, 1]));
      await one.data();
      one.dispose();
    },
  };
  // the device sampler's guided call with its default --guided-forward shared: the fb rows are
  // fb / 2 images' [cond, uncond] halves, whose down path runs once per image (ddpm's
  // guidedSamplingForward); PyTorch's row is the same network on the fb rows, as the reference's
  // sampler runs it
  if (fb % 2 === 0) {
    const gx = tf.keep(tf.slice(dx, 0, fb / 2));
    const [t, c, mask] = dc;
    cases.ddpm_forward_guided = {
      label: `DDPM U-Net forward, batch ${fb} (${fb / 2} images guided, the down path once per image, on the device)`,
      torch: `ddpm_forward batch=${fb} n_feat=${s.nFeat}`,
      run: async () => {
        const one = tf.tidy(() => tf.slice(ddpm.guidedSamplingForward(model, unet, { x: gx, t, c, mask }), [0, 0, 0, 0], [1, 1, 1, 1]));
        await one.data();
        one.dispose();
      },
    };
  }
}

function dannCases(tf, core, dann, s, cases) {
  const rng = new core.Rng(2);
  const net = new dann.DannNet(dann.REPORT_NET, rng);
  const opt = dann.makeOptimizer(1e-3);
  const b = s.dannBatch;
  const xs = tf.keep(tf.tensor4d(rng.uniformArray(b * 28 * 28, 0, 1), [b, 28, 28, 1]));
  const xt = tf.keep(tf.tensor4d(rng.uniformArray(b * 28 * 28, 0, 1), [b, 28, 28, 1]));
  const ys = tf.keep(
    tf.tensor1d(
      Int32Array.from({ length: b }, (_, i) => i % 10),
      'int32',
    ),
  );
  cases.dann_train = {
    label: `DANN train step, batch ${b}+${b}`,
    torch: `dann_train batch=${b}`,
    // the dann package's step: class loss on the source half, domain loss through the GRL
    run: async () => {
      await dann.dannStep(net, opt, xs, ys, xt, 0.5, rng);
    },
  };
  // the same step replayed (core's replayableStep, as the trainer runs it with DLCV_STEP_REPLAY=1)
  const replayed = core.replayableStep((i) => dann.queueDannStep(net, opt, i.xs, i.ys, i.xt, i.lambda, i.rng), { enabled: true });
  cases.dann_train_replayed = {
    get label() {
      return replayedLabel(`DANN train step, batch ${b}+${b}, replayed`, replayed);
    },
    torch: `dann_train batch=${b}`,
    run: async () => {
      await dann.readStepLosses(replayed({ xs, ys, xt, lambda: new core.StepValue(0.5), rng }));
    },
    replayed,
  };
  cases.dann_forward = {
    label: `DANN forward, batch ${b}`,
    torch: `dann_forward batch=${b}`,
    run: async () => {
      const y = tf.tidy(() => net.classify(net.features(xs, { training: false }), { training: false }));
      await y.data();
      y.dispose();
    },
  };
}

/**
 * The GPU rows of the families in `only` (dcgan, ddpm, dann): { name: { label, torch, run } },
 * `torch` being the reference script's serve command for the same network and batch.
 */
function buildGpuCases({ tf, core, pkg, only, sizes }) {
  const cases = {};
  if (only.includes('dcgan')) dcganCases(tf, core, pkg('gan'), sizes, cases);
  if (only.includes('ddpm')) ddpmCases(tf, core, pkg('ddpm'), sizes, cases);
  if (only.includes('dann')) dannCases(tf, core, pkg('dann'), sizes, cases);
  return cases;
}

module.exports = { buildGpuCases, gpuSizes };
