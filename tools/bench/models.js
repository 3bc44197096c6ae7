// The three HW2 models for the benchmark, in tfjs layers (NHWC), as in the report
// (/work/shared/seed/dlcv-hw2-report.txt): DCGAN model A, the conditional DDPM U-Net of
// TeaPearce/Conditional_Diffusion_MNIST (n_feat 128), and the DANN feature extractor / label
// predictor / domain classifier. The gan/ddpm/dann packages own the real models; this file only
// has to match their shapes and operations for timing. Mirrors torch_models.py.
'use strict';

// ops: { gelu, batchNormTrain } from @dlcv/core's engine (fused native kernels on 'dlcv-native',
// tfjs compositions elsewhere). stockBN: use tf.layers.batchNormalization instead (for comparison).
function makeModels(tf, ops, { stockBN = false } = {}) {
  const L = tf.layers;

  // BatchNorm with PyTorch semantics over the last axis: batch statistics in training (one fused
  // kernel forward and backward), running statistics (momentum 0.1, unbiased variance) in eval.
  class FusedBN extends tf.layers.Layer {
    constructor(eps = 1e-5, momentum = 0.1) { super({}); this.eps = eps; this.m = momentum; }
    build(inputShape) {
      const c = [inputShape[inputShape.length - 1]];
      this.gamma = this.addWeight('gamma', c, 'float32', tf.initializers.ones());
      this.beta = this.addWeight('beta', c, 'float32', tf.initializers.zeros());
      this.rm = this.addWeight('running_mean', c, 'float32', tf.initializers.zeros(), undefined, false);
      this.rv = this.addWeight('running_var', c, 'float32', tf.initializers.ones(), undefined, false);
      this.built = true;
    }
    call(inputs, kwargs) {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs && kwargs.training) {
        const { y, mean, variance } = ops.batchNormTrain(x, this.gamma.read(), this.beta.read(), this.eps);
        const n = x.size / x.shape[x.shape.length - 1];
        tf.tidy(() => {
          this.rm.write(tf.add(tf.mul(this.rm.read(), 1 - this.m), tf.mul(mean, this.m)));
          this.rv.write(tf.add(tf.mul(this.rv.read(), 1 - this.m), tf.mul(variance, (this.m * n) / Math.max(1, n - 1))));
        });
        return y;
      }
      return tf.batchNorm(x, this.rm.read(), this.rv.read(), this.beta.read(), this.gamma.read(), this.eps);
    }
    static get className() { return 'BenchFusedBN'; }
  }
  const bn = () => (stockBN ? L.batchNormalization({ epsilon: 1e-5, momentum: 0.9 }) : new FusedBN());

  // ------------------------------------------------------------------ DCGAN model A
  function dcganG(nz = 100) {
    const m = tf.sequential();
    m.add(L.conv2dTranspose({ inputShape: [1, 1, nz], filters: 512, kernelSize: 4, strides: 1, padding: 'valid', useBias: false }));
    m.add(bn()); m.add(L.reLU());
    for (const f of [256, 128, 64]) {
      m.add(L.conv2dTranspose({ filters: f, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
      m.add(bn()); m.add(L.reLU());
    }
    m.add(L.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', useBias: false, activation: 'tanh' }));
    return m;
  }
  function dcganD() {
    const m = tf.sequential();
    m.add(L.conv2d({ inputShape: [64, 64, 3], filters: 64, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
    m.add(L.leakyReLU({ alpha: 0.2 }));
    for (const f of [128, 256, 512]) {
      m.add(L.conv2d({ filters: f, kernelSize: 4, strides: 2, padding: 'same', useBias: false }));
      m.add(bn()); m.add(L.leakyReLU({ alpha: 0.2 }));
    }
    m.add(L.conv2d({ filters: 1, kernelSize: 4, strides: 1, padding: 'valid', useBias: false, activation: 'sigmoid' }));
    m.add(L.flatten());
    return m;
  }

  // ------------------------------------------------------------------ DANN
  function dannFE() {
    const m = tf.sequential();
    m.add(L.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'same' }));
    m.add(bn()); m.add(L.reLU());
    m.add(L.dropout({ rate: 0.5, noiseShape: [null, 1, 1, 32] }));
    m.add(L.maxPooling2d({ poolSize: 2, strides: 2 }));
    m.add(L.conv2d({ filters: 64, kernelSize: 3, padding: 'same' }));
    m.add(bn()); m.add(L.reLU());
    m.add(L.dropout({ rate: 0.5, noiseShape: [null, 1, 1, 64] }));
    m.add(L.maxPooling2d({ poolSize: 2, strides: 2 }));
    m.add(L.flatten());
    m.add(L.dense({ units: 1024 }));
    m.add(bn()); m.add(L.reLU());
    return m;
  }
  function dannHead(out) {
    const m = tf.sequential();
    m.add(L.dense({ inputShape: [1024], units: 50 }));
    m.add(bn()); m.add(L.reLU());
    m.add(L.dense({ units: out }));
    return m;
  }

  // ------------------------------------------------------------------ DDPM conditional U-Net
  const gelu = (x) => ops.gelu(x);

  class Unet {
    constructor(inC = 3, nFeat = 128, nClasses = 10) {
      this.nFeat = nFeat;
      this.vars = [];
      this.layers = [];
      const conv = (filters, k = 3) => this.track(L.conv2d({ filters, kernelSize: k, padding: 'same' }));
      const block = (out, isRes) => ({ c1: conv(out), b1: this.track(bn()), c2: conv(out), b2: this.track(bn()), isRes });
      const embed = (dim) => ({ d1: this.track(L.dense({ units: dim })), d2: this.track(L.dense({ units: dim })) });
      const n = nFeat;
      this.init = block(n, true);
      this.down1 = block(n, false);
      this.down2 = block(2 * n, false);
      this.te1 = embed(2 * n); this.te2 = embed(n); this.ce1 = embed(2 * n); this.ce2 = embed(n);
      this.up0 = this.track(L.conv2dTranspose({ filters: 2 * n, kernelSize: 7, strides: 7, padding: 'valid' }));
      this.gn0 = this.groupNorm(2 * n);
      this.up1 = { t: this.track(L.conv2dTranspose({ filters: n, kernelSize: 2, strides: 2, padding: 'valid' })), r1: block(n, false), r2: block(n, false) };
      this.up2 = { t: this.track(L.conv2dTranspose({ filters: n, kernelSize: 2, strides: 2, padding: 'valid' })), r1: block(n, false), r2: block(n, false) };
      this.outC1 = conv(n);
      this.gnOut = this.groupNorm(n);
      this.outC2 = conv(inC);
    }
    track(layer) { this.layers.push(layer); return layer; }
    groupNorm(c) {
      const g = tf.variable(tf.ones([c]), true);
      const b = tf.variable(tf.zeros([c]), true);
      this.vars.push(g, b);
      return { g, b, groups: 8 };
    }
    gn(p, x) {
      const [N, H, W, C] = x.shape;
      const G = p.groups;
      const xr = tf.reshape(x, [N, H, W, G, C / G]);
      const { mean, variance } = tf.moments(xr, [1, 2, 4], true);
      const xn = tf.reshape(tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, 1e-5))), [N, H, W, C]);
      return tf.add(tf.mul(xn, p.g), p.b);
    }
    block(p, x, training) {
      const x1 = gelu(p.b1.apply(p.c1.apply(x), { training }));
      const x2 = gelu(p.b2.apply(p.c2.apply(x1), { training }));
      if (!p.isRes) return x2;
      const same = x.shape[3] === x2.shape[3];
      return tf.div(tf.add(same ? x : x1, x2), 1.414);
    }
    embed(p, x) { return p.d2.apply(gelu(p.d1.apply(x))); }
    apply(x, c, t, mask, training) {
      const n = this.nFeat;
      const x0 = this.block(this.init, x, training);
      const down1 = tf.maxPool(this.block(this.down1, x0, training), 2, 2, 'valid');
      const down2 = tf.maxPool(this.block(this.down2, down1, training), 2, 2, 'valid');
      const hidden = gelu(tf.avgPool(down2, 7, 7, 'valid'));
      const cm = tf.mul(c, tf.mul(-1, tf.sub(1, mask)));
      const cemb1 = tf.reshape(this.embed(this.ce1, cm), [-1, 1, 1, 2 * n]);
      const temb1 = tf.reshape(this.embed(this.te1, t), [-1, 1, 1, 2 * n]);
      const cemb2 = tf.reshape(this.embed(this.ce2, cm), [-1, 1, 1, n]);
      const temb2 = tf.reshape(this.embed(this.te2, t), [-1, 1, 1, n]);
      const up1 = tf.relu(this.gn(this.gn0, this.up0.apply(hidden)));
      const upBlock = (p, h, skip) => {
        const y = p.t.apply(tf.concat([h, skip], -1));
        return this.block(p.r2, this.block(p.r1, y, training), training);
      };
      const up2 = upBlock(this.up1, tf.add(tf.mul(cemb1, up1), temb1), down2);
      const up3 = upBlock(this.up2, tf.add(tf.mul(cemb2, up2), temb2), down1);
      const h = tf.relu(this.gn(this.gnOut, this.outC1.apply(tf.concat([up3, x0], -1))));
      return this.outC2.apply(h);
    }
    trainableVars() {
      return [...this.layers.flatMap((l) => l.trainableWeights.map((w) => w.read())), ...this.vars];
    }
  }

  return { dcganG, dcganD, dannFE, dannHead, Unet, gelu };
}

module.exports = { makeModels };
