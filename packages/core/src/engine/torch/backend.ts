// The 'dlcv-torch' tfjs backend's tensor storage: every tensor's data is one libtorch tensor on
// the engine's device (CPU, or CUDA), held by a handle. Data is uploaded once when written and
// downloaded only when read (dataSync, data, array); kernels pass handles to the addon. An array
// of one repeated value is kept as that value until a kernel takes it (then filled on the
// device); add, sub and multiply take it as a number (torch-ops.ts). A tfjs Reshape shares the
// data under another shape: ops then get a cached view of the same tensor.
import * as tf from '@tensorflow/tfjs';
import { KernelBackend, type BackendValues, type DataId, type DataType, type TensorInfo } from '@tensorflow/tfjs';

import { Unsupported } from '../kernels/kernel';
import { DTYPE_CODES, type Handle, type TorchAddon, type TorchDtype } from './addon';
import { EntryStore } from './entries';
import { activeRecording } from './step-replay';

export const TORCH_BACKEND_NAME = 'dlcv-torch';

interface Entry {
  /**
   * The tensor; null for strings, which stay on the host (no kernel here takes them), and for a
   * constant not yet used by a kernel (`fillValue`).
   */
  handle: Handle | null;
  /**
   * Every value of a tensor written as one repeated value: it is filled on the device when a
   * kernel first takes it, and read back without the device. Many are never used: tfjs writes
   * zeros as the gradient of every unused output of a multi-output kernel (batch statistics).
   */
  fillValue?: number;
  /** The handle's shape. */
  shape: number[];
  dtype: DataType;
  refCount: number;
  /** The handle under other shapes (Reshape'd tensors), by shape. */
  views?: Map<string, Handle>;
  strings?: Uint8Array[];
}

const size = (shape: number[]) => tf.util.sizeFromShape(shape);

function typedValues(values: BackendValues, dtype: TorchDtype): Float32Array | Int32Array | Uint8Array {
  const ctor = dtype === 'float32' ? Float32Array : dtype === 'int32' ? Int32Array : Uint8Array;
  return values instanceof ctor ? values : ctor.from(values as ArrayLike<number>);
}

function torchDtype(dtype: DataType): TorchDtype {
  if (dtype in DTYPE_CODES) return dtype as TorchDtype;
  throw new Error(`the libtorch engine has no ${dtype} tensors`);
}

/**
 * The value every element of `values` holds, bit for bit, when a device fill makes the same
 * tensor (so it need not be uploaded, and may never be made); undefined otherwise. tfjs writes
 * such arrays often: the zeros it passes as the gradient of an op's unused outputs, the ones of a
 * loss's seed gradient, scalars. NaN (whose payload a fill would not keep) and bools other than
 * 0/1 are uploaded.
 */
function constantFillValue(values: Float32Array | Int32Array | Uint8Array): number | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  const bits = values instanceof Float32Array ? new Uint32Array(values.buffer, values.byteOffset, n) : values;
  const first = bits[0]!;
  for (let i = 1; i < n; i++) if (bits[i] !== first) return undefined;
  const value = values[0]!;
  if (Number.isNaN(value) || (values instanceof Uint8Array && value > 1)) return undefined;
  return value;
}

/** The value of an entry written as a constant that no kernel has taken yet (so not on the device). */
const pendingFill = (e: Entry): number | undefined => (e.handle ? undefined : e.fillValue);

/** A host array for `n` values of a tensor of `dtype`, in its storage type. */
function hostArray(dtype: DataType, n: number): Float32Array | Int32Array | Uint8Array {
  const t = torchDtype(dtype);
  return t === 'float32' ? new Float32Array(n) : t === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

export class TorchBackend extends KernelBackend {
  private readonly data: EntryStore<Entry>;

  constructor(
    readonly addon: TorchAddon,
    readonly onCuda: boolean,
    /** A kernel without an ATen implementation is an error, not a host trip (host-kernels.ts). */
    readonly noHostTrips: boolean,
  ) {
    super();
    this.data = new EntryStore<Entry>(this);
  }

  private entryFor(values: BackendValues | null, shape: number[], dtype: DataType, refCount: number): Entry {
    if (dtype === 'string') return { handle: null, shape, dtype, refCount, strings: (values ?? []) as Uint8Array[] };
    const t = torchDtype(dtype);
    if (values == null) return { handle: null, fillValue: 0, shape, dtype, refCount };
    const host = typedValues(values, t);
    // A recorded step's inputs are uploaded whatever their values, as each replay will upload them.
    const fillValue = activeRecording()?.isInput(host) ? undefined : constantFillValue(host);
    if (fillValue !== undefined) return { handle: null, fillValue, shape, dtype, refCount };
    return { handle: this.addon.upload(host, shape, DTYPE_CODES[t]), shape, dtype, refCount };
  }

  override write(values: BackendValues | null, shape: number[], dtype: DataType): DataId {
    return this.data.add(this.entryFor(values, shape, dtype, 1));
  }
  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.data.set(dataId, this.entryFor(values, shape, dtype, refCount));
  }
  override readSync(dataId: DataId): BackendValues {
    const e = this.data.get(dataId);
    if (e.strings) return e.strings;
    const out = hostArray(e.dtype, size(e.shape));
    const value = pendingFill(e);
    if (value !== undefined) return out.fill(value);
    this.addon.download(e.handle!, out);
    return out;
  }
  /** Reads off the main thread (the addon's downloadAsync): JavaScript runs on while the device finishes its queued work. */
  override async read(dataId: DataId): Promise<BackendValues> {
    const e = this.data.get(dataId);
    if (e.strings) return e.strings;
    const out = hostArray(e.dtype, size(e.shape));
    const value = pendingFill(e);
    if (value !== undefined) return out.fill(value);
    await this.addon.downloadAsync(e.handle!, out);
    return out;
  }
  override refCount(dataId: DataId): number {
    return this.data.has(dataId) ? this.data.get(dataId).refCount : 0;
  }
  override incRef(dataId: DataId): void {
    this.data.get(dataId).refCount++;
  }
  decRef(dataId: DataId): void {
    if (this.data.has(dataId)) this.data.get(dataId).refCount--;
  }
  override disposeData(dataId: DataId, force = false): boolean {
    if (!this.data.has(dataId)) return true;
    const e = this.data.get(dataId);
    e.refCount--;
    if (!force && e.refCount > 0) return false;
    if (e.handle) this.addon.free(e.handle);
    for (const v of e.views?.values() ?? []) this.addon.free(v);
    this.data.delete(dataId);
    return true;
  }
  disposeIntermediateTensorInfo(t: TensorInfo): void {
    this.disposeData(t.dataId);
  }
  override numDataIds(): number {
    return this.data.size();
  }
  /** f's time to its end on the op thread and the device: the work queued before it is waited for first. */
  override async time(f: () => void): Promise<{ kernelMs: number }> {
    this.addon.sync();
    const start = tf.util.now();
    f();
    this.addon.sync();
    return { kernelMs: tf.util.now() - start };
  }
  override memory(): { unreliable: boolean; reasons: string[] } {
    return { unreliable: true, reasons: ['libtorch allocates the tensors; its caching allocator is not reported here'] };
  }
  override floatPrecision(): 16 | 32 {
    return 32;
  }
  override dispose(): void {}

  /** The value of every element of t when it is a constant no kernel has taken yet, else undefined. */
  constantValue(t: TensorInfo): number | undefined {
    return pendingFill(this.data.get(t.dataId));
  }
  /** The handles a tensor's data has now (its own first, then its views), with their shapes; none for a constant no kernel has taken. */
  existingHandles(dataId: DataId): { handle: Handle; shape: number[] }[] {
    if (!this.data.has(dataId)) return [];
    const e = this.data.get(dataId);
    if (!e.handle) return [];
    const out = [{ handle: e.handle, shape: e.shape }];
    for (const [key, handle] of e.views ?? []) out.push({ handle, shape: key === '' ? [] : key.split(',').map(Number) });
    return out;
  }
  /** The handle of a tensor, as a tensor of t's shape; Unsupported for strings. */
  handle(t: TensorInfo): Handle {
    const e = this.data.get(t.dataId);
    const value = pendingFill(e);
    if (value !== undefined) e.handle = this.addon.fill(e.shape, value, DTYPE_CODES[torchDtype(e.dtype)]);
    if (!e.handle) throw new Unsupported(`dtype ${e.dtype}`);
    if (tf.util.arraysEqual(e.shape, t.shape)) return e.handle;
    const key = t.shape.join(',');
    e.views ??= new Map();
    let v = e.views.get(key);
    if (!v) e.views.set(key, (v = this.addon.view(e.handle, t.shape)));
    return v;
  }
  /**
   * A new tensor whose every element is `value` as `dtype` stores it (tf.fill), kept as that value
   * until a kernel takes it; undefined for a value only an upload keeps (see constantFillValue).
   */
  fromConstant(shape: number[], value: number, dtype: DataType): TensorInfo | undefined {
    const fillValue = constantFillValue(hostArray(dtype, 1).fill(value));
    if (fillValue === undefined) return undefined;
    return { dataId: this.data.add({ handle: null, fillValue, shape, dtype, refCount: 1 }), shape, dtype };
  }
  /** A new tensor owning `handle` (whose shape is `shape`). */
  fromHandle(handle: Handle, shape: number[], dtype: DataType): TensorInfo {
    return { dataId: this.data.add({ handle, shape, dtype, refCount: 1 }), shape, dtype };
  }
  /** A new tensor holding host values (uploaded). */
  fromValues(values: BackendValues, shape: number[], dtype: DataType): TensorInfo {
    return { dataId: this.write(values, shape, dtype), shape, dtype };
  }
}
