import * as tf from '@tensorflow/tfjs';
import { setupEngine } from '../engine/engine';
import { onnxRelativeError } from '../onnx/compare';
import { Rng } from '../rng';
import { Gelu } from './gelu';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

describe('Gelu layer', () => {
  it('is x * Phi(x) (torch.nn.GELU values)', () => {
    // torch.nn.GELU()(torch.tensor([-3., -1., 0., 0.5, 2.])), float64
    const expected = [-0.004049694, -0.158655254, 0, 0.345731231, 1.954499736];
    const y = (new Gelu().apply(tf.tensor1d([-3, -1, 0, 0.5, 2])) as tf.Tensor).dataSync();
    expected.forEach((e, i) => expect(y[i]).toBeCloseTo(e, 6));
  });

  it('round-trips through a saved model topology', async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 }), new Gelu({ name: 'act' })] });
    const saved: tf.io.ModelArtifacts[] = [];
    await m.save(
      tf.io.withSaveHandler(async (a) => {
        saved.push(a);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved[0]!));
    expect(loaded.getLayer('act').getClassName()).toBe('DlcvGelu');
    const x = tf.tensor2d([[1, -2, 0.5]]);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
  });

  it('exports to ONNX with the numbers tfjs computes', async () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 6 }), new Gelu()] });
    const rng = new Rng(3);
    m.setWeights(m.weights.map((w) => tf.tensor(rng.normalArray(w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number), w.shape as number[])));
    const x = tf.tensor2d(new Rng(4).normalArray(3 * 4, 2), [3, 4]);
    expect(await onnxRelativeError(m, [x])).toBeLessThan(1e-4);
  });
});
