// Convolutions on every engine against the tfjs cpu backend (forward and tf.grad), on the shapes,
// strides, paddings and dilations the DCGAN / DDPM U-Net / DANN models use.
import * as tf from '@tensorflow/tfjs';

import { rand } from '../test-utils/compare';
import { describeEachEngine, expectNoFallbacks } from '../test-utils/engines';

describeEachEngine('convolutions', (engine) => {
  const cases: [string, number[], number[], number | [number, number], 'same' | 'valid' | number, number][] = [
    // name, x, filter (HWIO), stride, pad, dilation
    ['dcgan D conv1 4x4 s2 p1', [2, 16, 16, 3], [4, 4, 3, 8], 2, 'same', 1],
    ['dcgan D conv 4x4 s2 p1', [2, 8, 8, 16], [4, 4, 16, 32], 2, 'same', 1],
    ['dcgan D last 4x4 s1 valid', [3, 4, 4, 32], [4, 4, 32, 1], 1, 'valid', 1],
    ['ddpm 3x3 s1 p1', [2, 7, 7, 16], [3, 3, 16, 8], 1, 'same', 1],
    ['dann 3x3 s1 p1, 1 channel', [4, 28, 28, 1], [3, 3, 1, 8], 1, 'same', 1],
    ['3x3 numeric pad 1', [2, 9, 9, 4], [3, 3, 4, 5], 1, 1, 1],
    ['3x3 dilation 2', [1, 11, 11, 4], [3, 3, 4, 6], 1, 'same', 2],
    ['5x5 s2 valid odd', [2, 13, 11, 3], [5, 5, 3, 4], 2, 'valid', 1],
    ['rect stride [1,2]', [2, 10, 10, 3], [3, 2, 3, 4], [1, 2], 'same', 1],
  ];
  for (const [name, xs, ws, s, p, dil] of cases) {
    test(`conv2d ${name}`, () => {
      // tfjs has no conv2d gradient for dilation > 1: forward only there
      engine.check(name, [rand(xs, 1), rand(ws, 2)], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, p, 'NHWC', dil), { grad: dil === 1 });
    });
  }
  const tcases: [string, number[], number[], number[], number, 'same' | 'valid'][] = [
    // name, x, filter (H W outC inC), output, stride, pad
    ['dcgan G first 4x4 s1 valid (1x1 -> 4x4)', [2, 1, 1, 16], [4, 4, 8, 16], [2, 4, 4, 8], 1, 'valid'],
    ['dcgan G 4x4 s2 p1', [2, 4, 4, 16], [4, 4, 8, 16], [2, 8, 8, 8], 2, 'same'],
    ['dcgan G last 4x4 s2 p1 to 3 channels', [2, 8, 8, 8], [4, 4, 3, 8], [2, 16, 16, 3], 2, 'same'],
    ['ddpm up 2x2 s2', [2, 7, 7, 8], [2, 2, 4, 8], [2, 14, 14, 4], 2, 'valid'],
    ['ddpm up0 7x7 s7', [2, 1, 1, 8], [7, 7, 6, 8], [2, 7, 7, 6], 7, 'valid'],
  ];
  for (const [name, xs, ws, os, s, p] of tcases) {
    test(`conv2dTranspose ${name}`, () => {
      engine.check(name, [rand(xs, 3), rand(ws, 4)], (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, os as [number, number, number, number], s, p));
    });
  }
  // 3x3 stride-1 layers with >= 16 channels each way take oneDNN's Winograd F(4x4,3x3) kernels:
  // the U-Net's shapes at small size, odd sizes (partial 4x4 tiles), valid padding, fused bias.
  const winogradCases: [string, number[], number[], 'same' | 'valid'][] = [
    ['ddpm 3x3 16->32 same', [2, 12, 12, 16], [3, 3, 16, 32], 'same'],
    ['ddpm 3x3 32->16 same, odd size', [3, 13, 11, 32], [3, 3, 32, 16], 'same'],
    ['3x3 16->16 valid', [2, 10, 9, 16], [3, 3, 16, 16], 'valid'],
    ['ddpm 3x3 32->32 at 14x14', [1, 14, 14, 32], [3, 3, 32, 32], 'same'],
  ];
  for (const [name, xs, ws, p] of winogradCases) {
    test(`conv2d Winograd ${name}`, () => {
      engine.check(name, [rand(xs, 11), rand(ws, 12)], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, p));
      engine.check(`${name} + bias`, [rand(xs, 13), rand(ws, 14), rand([ws[3]!], 15)], (x, w, b) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: p, bias: b }),
      );
    });
  }

  test('fused conv2d + bias + relu / leakyrelu / sigmoid', () => {
    for (const activation of ['relu', 'leakyrelu', 'sigmoid', 'linear'] as const) {
      engine.check(`fused ${activation}`, [rand([2, 8, 8, 4], 5), rand([3, 3, 4, 6], 6), rand([6], 7)], (x, w, b) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation, leakyreluAlpha: 0.2 }),
      );
    }
  });

  test('the convolutions above ran on the engine (no fallbacks)', () => {
    expectNoFallbacks(engine, ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'FusedConv2D']);
  });
});
