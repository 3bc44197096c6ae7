/**
 * A faster Conv2DBackpropFilter for tfjs's pure-JS cpu backend. The stock kernel reads every
 * element through TensorBuffer.get (a bounds-checked, variadic call per multiply); on the digit
 * classifier it takes 90% of a training step (~2 s for 8 images). This one walks the flat NHWC
 * arrays and accumulates in float64, like the stock kernel's running sum. NCHW falls back to
 * the stock kernel. Registered only while the cpu backend is active (see useFastCpuKernels).
 */
import * as tf from '@tensorflow/tfjs';

interface BackendData {
  data: { get(id: unknown): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo;
}

interface FilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

let installed = false;

export function conv2dBackpropFilterNhwc(x: tf.TensorInfo, dy: tf.TensorInfo, backend: BackendData, attrs: FilterAttrs): tf.TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const xv = backend.data.get(x.dataId).values;
  const dyv = backend.data.get(dy.dataId).values;
  const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      for (let yC = 0; yC < outWidth; yC++) {
        const dyBase = ((b * outHeight + yR) * outWidth + yC) * outChannels;
        for (let wR = 0; wR < filterHeight; wR++) {
          const xR = yR * strideHeight + wR - top;
          if (xR < 0 || xR >= inHeight) continue;
          for (let wC = 0; wC < filterWidth; wC++) {
            const xC = yC * strideWidth + wC - left;
            if (xC < 0 || xC >= inWidth) continue;
            const xBase = ((b * inHeight + xR) * inWidth + xC) * inChannels;
            const wBase = (wR * filterWidth + wC) * inChannels * outChannels;
            for (let d1 = 0; d1 < inChannels; d1++) {
              const xval = xv[xBase + d1] as number;
              if (xval === 0) continue; // ReLU outputs are often exactly 0
              const o = wBase + d1 * outChannels;
              for (let d2 = 0; d2 < outChannels; d2++) acc[o + d2] = (acc[o + d2] as number) + xval * (dyv[dyBase + d2] as number);
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo(attrs.filterShape, 'float32', Float32Array.from(acc));
}

/** Swaps in the fast kernel when the active backend is tfjs's cpu; returns whether it did. */
export function useFastCpuKernels(): boolean {
  if (tf.getBackend() !== 'cpu') return false;
  if (installed) return true;
  const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  if (!stock) return false;
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'cpu',
    kernelFunc: (args) => {
      const attrs = args.attrs as unknown as FilterAttrs;
      if (attrs.dataFormat === 'NCHW') return stock.kernelFunc(args);
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      return conv2dBackpropFilterNhwc(x, dy, args.backend as unknown as BackendData, attrs);
    },
  });
  installed = true;
  return true;
}
