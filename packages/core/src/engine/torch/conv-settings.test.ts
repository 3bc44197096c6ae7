// The libtorch engine's convolution settings: the start-up check of each layout against float64
// (convLayoutError), the choice between oneDNN's CPU convolutions and ATen's own where oneDNN's are
// wrong (settleConvolutions), and the kernels under each setting against the cpu backend.
import * as tf from '@tensorflow/tfjs';

import { rand } from '../kernels/test-utils/compare';
import { describeEngine, ENGINES, expectNoFallbacks } from '../kernels/test-utils/engines';
import { settleConvolutions, torchAddon, wrongConvPart } from './index';
import type { TorchAddon } from './addon';

const entry = ENGINES.find((e) => e.name === 'libtorch')!;

/**
 * Puts the engine's convolution settings back after each spec of the enclosing block: its layout
 * (channels-last views) and its oneDNN setting as found before the spec (off already where the
 * engine fell back at start). Registered before a block's own beforeEach, it reads the setting
 * before that changes it. Returns the setting found.
 */
function keepEngineConvSettings(): () => number {
  const addon = () => torchAddon()!;
  let oneDnn = 1;
  beforeEach(() => (oneDnn = addon().info().oneDnn));
  afterEach(() => {
    addon().setConvLayout(0);
    addon().setOneDnn(oneDnn);
  });
  return () => oneDnn;
}

/**
 * An addon whose convolutions are off by `wrongWith.oneDnn` / `wrongWith.own` (0: right) through
 * oneDNN and through ATen's own kernels, on the input gradient as Debian trixie's libtorch 2.6.0 is
 * through oneDNN; it records the settings made.
 */
function fakeAddon(wrongWith: { oneDnn: number; own: number }) {
  const made: string[] = [];
  let oneDnn = 1;
  const addon = {
    info: () => ({ torch: '2.6.0', oneDnn }),
    setOneDnn: (on: number) => {
      oneDnn = on;
      made.push(`oneDnn ${on}`);
    },
    setConvLayout: (nchw: number) => made.push(`layout ${nchw}`),
    convLayoutError: () => [1e-7, oneDnn ? wrongWith.oneDnn : wrongWith.own, 1e-7],
  };
  return { addon: addon as unknown as TorchAddon, made };
}

describe('settleConvolutions', () => {
  const right = { oneDnn: 0, own: 0 };
  const oneDnnWrong = { oneDnn: 1.15, own: 0 };

  test('where oneDNN is right it keeps it and the layout asked for, with no note for the defaults', () => {
    const { addon, made } = fakeAddon(right);
    expect(settleConvolutions(addon, false, {})).toBe('');
    expect(made).toEqual(['oneDnn 1', 'layout 0']);
    const nchw = fakeAddon(right);
    expect(settleConvolutions(nchw.addon, false, { DLCV_TORCH_CONV_LAYOUT: 'nchw' })).toBe(', convolutions on NCHW copies (DLCV_TORCH_CONV_LAYOUT=nchw)');
    expect(nchw.made).toEqual(['oneDnn 1', 'layout 1']);
  });

  test("on the CPU, where oneDNN's convolutions are wrong and ATen's own right, it takes ATen's own and the note names oneDNN's fault", () => {
    const { addon, made } = fakeAddon(oneDnnWrong);
    expect(settleConvolutions(addon, false, {})).toBe(
      ", ATen's own CPU convolutions (through oneDNN a small 3x3 layer's input gradient is off by 115% of its largest value; DLCV_TORCH_ONEDNN=1 insists on oneDNN)",
    );
    expect(made).toEqual(['oneDnn 1', 'oneDnn 0', 'layout 0']);
  });

  test('it refuses, naming the fault, where the fallback is not for it: on CUDA, with DLCV_TORCH_ONEDNN=1, or where both are wrong', () => {
    const wrongHere = /^libtorch 2\.6\.0 computes convolutions on channels-last views wrongly here: a small 3x3 layer's input gradient is off by 115% of its largest value/;
    const onCuda = fakeAddon(oneDnnWrong);
    expect(() => settleConvolutions(onCuda.addon, true, {})).toThrow(new RegExp(`${wrongHere.source}$`));
    expect(onCuda.made).toEqual(['oneDnn 1']);
    const insisted = fakeAddon(oneDnnWrong);
    expect(() => settleConvolutions(insisted.addon, false, { DLCV_TORCH_ONEDNN: '1' })).toThrow(new RegExp(`${wrongHere.source}$`));
    expect(insisted.made).toEqual(['oneDnn 1']);
    const both = fakeAddon({ oneDnn: 1.15, own: 0.5 });
    expect(() => settleConvolutions(both.addon, false, {})).toThrow(new RegExp(`${wrongHere.source}, through oneDNN and through ATen's own kernels$`));
    expect(both.made).toEqual(['oneDnn 1', 'oneDnn 0', 'oneDnn 1']);
  });

  test("DLCV_TORCH_ONEDNN=0 takes ATen's own convolutions and checks them; a value other than 0 or 1 is an error naming the variable", () => {
    const { addon, made } = fakeAddon(oneDnnWrong);
    expect(settleConvolutions(addon, false, { DLCV_TORCH_ONEDNN: '0' })).toBe(", ATen's own CPU convolutions (DLCV_TORCH_ONEDNN=0)");
    expect(made).toEqual(['oneDnn 0', 'layout 0']);
    const ownWrong = fakeAddon({ oneDnn: 0, own: NaN });
    expect(() => settleConvolutions(ownWrong.addon, false, { DLCV_TORCH_ONEDNN: '0' })).toThrow(/input gradient is not a number$/);
    expect(() => settleConvolutions(fakeAddon(right).addon, false, { DLCV_TORCH_ONEDNN: 'off' })).toThrow('DLCV_TORCH_ONEDNN must be 0 or 1, not "off"');
  });
});

describeEngine(entry, 'libtorch convolution layouts against float64', () => {
  const addon = () => torchAddon()!;
  // fp32's rounding on the CPU and on CUDA without TF32; TF32's where it is on
  const rounding = () => (addon().info().tf32 ? 1e-2 : 1e-5);
  const engineOneDnn = keepEngineConvSettings();

  test("the default layout, channels-last views, is right with the engine's settings: its forward and gradients are float64 within rounding", () => {
    for (const e of addon().convLayoutError(0)) expect(e).toBeLessThan(rounding());
  });

  test('DLCV_TORCH_CONV_LAYOUT=nchw is taken where this libtorch computes NCHW copies right, refused naming the wrong part where not', () => {
    const onCuda = addon().info().device === 'cuda';
    // the engine's oneDNN setting, asked for, so that the check has no other to fall back on
    const env = { DLCV_TORCH_CONV_LAYOUT: 'nchw', DLCV_TORCH_ONEDNN: String(engineOneDnn()) };
    const error = addon().convLayoutError(1);
    const wrong = wrongConvPart(error);
    if (wrong < 0) {
      for (const e of error) expect(e).toBeLessThan(rounding());
      expect(settleConvolutions(addon(), onCuda, env)).toMatch(/^, convolutions on NCHW copies \(DLCV_TORCH_CONV_LAYOUT=nchw\)/);
    } else {
      // Debian trixie's libtorch 2.6.0 on some CPUs: the input gradient
      const part = ['forward', 'input gradient', 'filter gradient'][wrong]!;
      expect(() => settleConvolutions(addon(), onCuda, env)).toThrow(
        new RegExp(
          `^libtorch [\\d.]+\\S* computes convolutions on NCHW copies \\(DLCV_TORCH_CONV_LAYOUT=nchw; unset it for the default layout\\) wrongly here: a small 3x3 layer's ${part} (is off by \\d+% of its largest value|is not a number)$`,
        ),
      );
    }
    expect(() => settleConvolutions(addon(), onCuda, { DLCV_TORCH_CONV_LAYOUT: 'NCHW' })).toThrow(/DLCV_TORCH_CONV_LAYOUT/);
  });
});

// The kernels' other convolution settings, each against the cpu backend like the default in the
// kernel suite. Where this libtorch computes a setting wrongly the engine refuses it (the specs
// above and below), and its specs skip.
const SETTINGS = [
  {
    name: 'NCHW copies (DLCV_TORCH_CONV_LAYOUT=nchw)',
    set: (a: TorchAddon, on: boolean) => a.setConvLayout(on ? 1 : 0),
    wrong: (a: TorchAddon) => wrongConvPart(a.convLayoutError(1)) >= 0,
  },
  {
    name: "ATen's own CPU convolutions (DLCV_TORCH_ONEDNN=0)",
    set: (a: TorchAddon, on: boolean) => a.setOneDnn(on ? 0 : 1),
    wrong: (a: TorchAddon) => {
      const before = a.info().oneDnn;
      a.setOneDnn(0);
      const wrong = wrongConvPart(a.convLayoutError(0)) >= 0;
      a.setOneDnn(before);
      return wrong;
    },
  },
];

describe.each(SETTINGS)('libtorch convolutions with $name', (setting) => {
  describeEngine(entry, 'against the cpu backend', (engine) => {
    const addon = () => torchAddon()!;
    const settingTest = setting.wrong(addon()) ? test.skip : test;
    keepEngineConvSettings();
    beforeEach(() => {
      tf.setBackend(engine.backend);
      setting.set(addon(), true);
    });

    // forward and both gradients against the cpu backend: strided, valid, asymmetric 'same'
    // padding (even kernel at stride 1), dilation (forward only: tfjs has no gradient there)
    settingTest.each([
      ['4x4 s2 same', [2, 16, 16, 3], [4, 4, 3, 8], 2, 'same', 1],
      ['4x4 s1 same (asymmetric)', [2, 7, 7, 4], [4, 4, 4, 6], 1, 'same', 1],
      ['3x3 s1 valid', [3, 9, 8, 16], [3, 3, 16, 8], 1, 'valid', 1],
      ['3x3 dilation 2', [1, 11, 11, 4], [3, 3, 4, 6], 1, 'same', 2],
    ] as const)('conv2d %s', (name, xs, ws, s, p, dil) => {
      engine.check(name, [rand([...xs], 1), rand([...ws], 2)], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, p, 'NHWC', dil), { grad: dil === 1 });
    });

    settingTest('conv2dTranspose and the fused conv2d with bias and activation', () => {
      engine.check('transpose 4x4 s2', [rand([2, 4, 4, 16], 3), rand([4, 4, 8, 16], 4)], (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 8, 8], 2, 'same'));
      engine.check('fused 3x3 + bias + leakyrelu', [rand([2, 6, 6, 8], 5), rand([3, 3, 8, 4], 6), rand([4], 7)], (x, w, b) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'leakyrelu', leakyreluAlpha: 0.2 }),
      );
      expectNoFallbacks(engine, ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedConv2D']);
    });
  });
});

describeEngine(entry, 'libtorch oneDNN switch', () => {
  const addon = () => torchAddon()!;
  // cuDNN convolves on CUDA either way
  const cpuTest = addon().info().device === 'cuda' ? test.skip : test;
  // a 3x3 'same' convolution, 4 -> 5 channels, batch 2 of 6 x 6: [n,h,w,c, kh,kw,o, oh,ow, sh,sw, pt,pb,pl,pr, dh,dw]
  const params = [2, 6, 6, 4, 3, 3, 5, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1];
  const [x, w] = [rand([2, 6, 6, 4], 1), rand([3, 3, 4, 5], 2)];

  /** The names of the ATen ops one convolution runs with oneDNN on (1) or off (0). */
  const opsRun = (oneDnn: number): Set<string> => {
    addon().setOneDnn(oneDnn);
    expect(addon().info().oneDnn).toBe(oneDnn);
    const handles = [addon().upload(x.data, x.shape, 0), addon().upload(w.data, w.shape, 0)];
    addon().startAtenProfile();
    let events: [string, ...number[]][];
    try {
      handles.push(addon().conv2d(handles[0]!, handles[1]!, params, null));
      addon().sync();
    } finally {
      events = addon().stopAtenProfile();
      handles.forEach((h) => addon().free(h));
    }
    return new Set(events.map(([name]) => name));
  };

  keepEngineConvSettings();

  cpuTest("setOneDnn reaches ATen: a convolution runs oneDNN's kernel with it on and ATen's own with it off", () => {
    const withOneDnn = opsRun(1);
    const withoutOneDnn = opsRun(0);
    expect(withOneDnn.has('aten::mkldnn_convolution')).toBe(true);
    expect([withoutOneDnn.has('aten::mkldnn_convolution'), withoutOneDnn.has('aten::_slow_conv2d_forward')]).toEqual([false, true]);
  });
});
