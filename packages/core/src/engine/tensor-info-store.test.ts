import * as tf from '@tensorflow/tfjs';
import { setupEngine } from './engine';
import { RecordsOnDataIds, setTensorInfoStore, tensorInfoStoreInstalled } from './tensor-info-store';

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
});

describe("tfjs's tensor records on the data ids", () => {
  test('installed with the engine: made, shared, moved and disposed tensors keep the counts right', () => {
    expect(tensorInfoStoreInstalled()).toBe(true);
    const start = tf.memory();
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = tf.reshape(a, [4]); // the same data id
    const c = tf.matMul(a, a);
    expect(tf.memory().numTensors).toBe(start.numTensors + 3);
    expect(tf.memory().numDataBuffers).toBe(start.numDataBuffers + 2);
    expect(tf.memory().numBytes).toBe(start.numBytes + 48);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4]);
    expect(Array.from(c.dataSync())).toEqual([7, 10, 15, 22]);
    tf.dispose([b, c]);
    expect(tf.memory()).toMatchObject({ numTensors: start.numTensors, numDataBuffers: start.numDataBuffers, numBytes: start.numBytes });
  });

  test('a record set before (in the WeakMap) or on an id that takes no property is found, replaced and deleted there', () => {
    const before = new WeakMap<object, unknown>();
    const old = {};
    const frozen = Object.freeze({});
    const fresh = {};
    before.set(old, 'old record');
    const store = new RecordsOnDataIds(before);
    expect([store.has(old), store.get(old)]).toEqual([true, 'old record']);
    store.set(frozen, 'frozen record');
    store.set(fresh, 'fresh record');
    expect(before.has(frozen) && !before.has(fresh)).toBe(true);
    expect([store.get(frozen), store.get(fresh)]).toEqual(['frozen record', 'fresh record']);
    store.set(old, 'replaced');
    expect([before.has(old), store.get(old)]).toEqual([false, 'replaced']);
    expect([store.delete(old), store.delete(frozen), store.delete(fresh)]).toEqual([true, true, true]);
    expect([store.has(old), store.has(frozen), store.has(fresh), store.get(fresh)]).toEqual([false, false, false, undefined]);
    expect(store.delete(fresh)).toBe(false);
    // a record on the id keeps the id's own properties as they were
    expect(Object.keys(fresh)).toEqual([]);
    // switched to the WeakMap: new records go there, one on an id moves there
    store.set(fresh, 'on the id');
    store.onIds = false;
    const later = {};
    store.set(later, 'later');
    store.set(fresh, 'moved');
    expect([before.get(later), before.get(fresh), store.get(fresh)]).toEqual(['later', 'moved', 'moved']);
    expect([store.delete(fresh), store.has(fresh), store.has(later)]).toEqual([true, false, true]);
  });

  test('switched to the WeakMap and back, tensors made on either side are counted and disposed', () => {
    const start = tf.memory();
    setTensorInfoStore(false);
    expect(tensorInfoStoreInstalled()).toBe(false);
    const a = tf.tensor1d([1, 2, 3]);
    setTensorInfoStore(true);
    const b = tf.add(a, a);
    setTensorInfoStore(false);
    a.dispose();
    setTensorInfoStore(true);
    expect(Array.from(b.dataSync())).toEqual([2, 4, 6]);
    b.dispose();
    expect(tf.memory()).toMatchObject({ numTensors: start.numTensors, numDataBuffers: start.numDataBuffers, numBytes: start.numBytes });
    expect(tensorInfoStoreInstalled()).toBe(true);
  });
});

describe('after an engine reset', () => {
  test('the new engine state keeps its records on the data ids too', async () => {
    tf.engine().reset();
    expect(tensorInfoStoreInstalled()).toBe(true);
    expect(await tf.setBackend('cpu')).toBe(true);
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false; // its install-tfjs-node banner
    const start = tf.memory().numTensors;
    const t = tf.tensor1d([1, 2]);
    expect(Object.getOwnPropertySymbols(t.dataId).map(String)).toContain('Symbol(dlcv tensor info)');
    t.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
