// Convolution and pooling geometry from tfjs attributes (NHWC only).
import * as tf from '@tensorflow/tfjs';
import type { AvgPoolAttrs, Conv2DAttrs } from '@tensorflow/tfjs';

import type { Conv2DInfo } from '../device-ops';
import { Unsupported } from '../kernel';

type Shape4 = [number, number, number, number];
type ConvAttrs = Pick<Conv2DAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'>;

/** The geometry of a convolution of an input of inShape by a filter of filterShape (HWIO). */
export function conv2DInfo(attrs: ConvAttrs, inShape: number[], filterShape: number[], dilations: Conv2DAttrs['dilations']): Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs;
  const fmt = dataFormat as string | undefined;
  if (fmt != null && fmt !== 'NHWC' && fmt !== 'channelsLast') throw new Unsupported(`dataFormat ${String(fmt)}`);
  return tf.backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, strides, dilations, pad as never, dimRoundingMode, false, 'channelsLast');
}

/** The geometry of a 2-D pooling of an input of `shape`. */
export function pool2DInfo(attrs: AvgPoolAttrs, shape: number[]): Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = tf.backend_util.computePool2DInfo(shape as Shape4, filterSize, strides, 1, pad as never, dimRoundingMode);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) throw new Unsupported('dilated pool');
  return info;
}
