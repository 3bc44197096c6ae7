// Where tfjs's engine keeps each data id's record (its backend, dtype, shape and bytes): on the
// data id itself, under a symbol, instead of EngineState's WeakMap. The engine sets a record for
// every tensor a kernel makes and reads it again on dispose (a DDPM training step makes ~1,000);
// WeakMap insertions and lookups cost that step's host over a millisecond, and its entries
// (ephemerons) add to the garbage collector's work, where a property of the id is one load. The
// engine's other uses of the records (moveData, readSync, memory) see the same ones.
import * as tf from '@tensorflow/tfjs';

type DataId = object;
interface TensorInfoMap {
  has(dataId: DataId): boolean;
  get(dataId: DataId): unknown;
  set(dataId: DataId, info: unknown): unknown;
  delete(dataId: DataId): boolean;
}
interface EngineInternals {
  state: { tensorInfo: TensorInfoMap };
  reset(): void;
}

const RECORD = Symbol('dlcv tensor info');

/**
 * The engine state's record map as properties of the ids. Records set before it was installed
 * stay in the WeakMap it replaced, which it still reads and deletes from; so do the records of
 * an id that cannot take a property (a frozen object), and, while `onIds` is false (a paired
 * measurement's other side), every record set.
 */
export class RecordsOnDataIds implements TensorInfoMap {
  onIds = true;

  constructor(private readonly before: TensorInfoMap) {}

  has(dataId: DataId): boolean {
    return (dataId as Record<symbol, unknown>)[RECORD] !== undefined || this.before.has(dataId);
  }

  get(dataId: DataId): unknown {
    return (dataId as Record<symbol, unknown>)[RECORD] ?? this.before.get(dataId);
  }

  set(dataId: DataId, info: unknown): this {
    if (this.onIds && Object.isExtensible(dataId)) {
      (dataId as Record<symbol, unknown>)[RECORD] = info;
      this.before.delete(dataId);
    } else {
      if ((dataId as Record<symbol, unknown>)[RECORD] !== undefined) (dataId as Record<symbol, unknown>)[RECORD] = undefined;
      this.before.set(dataId, info);
    }
    return this;
  }

  delete(dataId: DataId): boolean {
    const own = (dataId as Record<symbol, unknown>)[RECORD] !== undefined;
    // undefined rather than `delete`, which would turn the id into a slow dictionary object
    if (own) (dataId as Record<symbol, unknown>)[RECORD] = undefined;
    return this.before.delete(dataId) || own;
  }
}

let installed = false;

/** Installs the store on tfjs's engine state, and again on each state a reset makes. */
export function installTensorInfoStore(): void {
  if (installed) return;
  const engine = tf.engine() as unknown as EngineInternals;
  const proto = Object.getPrototypeOf(engine) as EngineInternals;
  const map = engine.state?.tensorInfo;
  if (typeof proto.reset !== 'function' || typeof map?.has !== 'function' || typeof map.set !== 'function') return;
  installed = true;
  const onState = (e: EngineInternals) => {
    if (!(e.state.tensorInfo instanceof RecordsOnDataIds)) e.state.tensorInfo = new RecordsOnDataIds(e.state.tensorInfo);
  };
  onState(engine);
  const reset = proto.reset;
  proto.reset = function (this: EngineInternals) {
    reset.call(this);
    onState(this);
  };
}

const activeStore = (): RecordsOnDataIds | null => {
  const map = (tf.engine() as unknown as EngineInternals).state?.tensorInfo;
  return map instanceof RecordsOnDataIds ? map : null;
};

/** Whether the engine's new records are kept on the data ids. */
export function tensorInfoStoreInstalled(): boolean {
  return activeStore()?.onIds === true;
}

/**
 * Keeps new records on the data ids (true, the default) or in the engine's WeakMap (false), for
 * measuring what the store saves; records already made are found either way.
 */
export function setTensorInfoStore(onIds: boolean): void {
  installTensorInfoStore();
  const store = activeStore();
  if (store) store.onIds = onIds;
}
