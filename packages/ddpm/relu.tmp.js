const core = require('@dlcv/core');
const tf = require('@tensorflow/tfjs');
(async () => {
  const eng = await core.setupEngine({});
  console.log(core.describeEngine(eng));
  const x = tf.randomNormal([32, 28, 28, 128]);
  for (const [name, f] of [['relu', (t) => tf.relu(t)], ['gelu-ish add', (t) => tf.add(t, t)], ['mul', (t) => tf.mul(t, t)], ['neg', (t) => tf.neg(t)], ['relu6', (t) => tf.relu6(t)], ['sigmoid', (t) => tf.sigmoid(t)]]) {
    const ts = [];
    for (let i = 0; i < 12; i++) {
      const t0 = performance.now();
      const y = f(x);
      y.dataSync();
      ts.push(performance.now() - t0);
      y.dispose();
    }
    ts.sort((a, b) => a - b);
    console.log(name, 'median ms', ts[6].toFixed(2), 'kernel backend', tf.getBackend());
  }
})();
