// Where the 'dlcv-torch' backend keeps each tensor's entry: on the tfjs data id itself, under a
// symbol of the store. tfjs's DataStorage keeps them in a WeakMap, whose insertions and lookups
// cost a training step's host several hundred microseconds (a DDPM step makes ~600 tensors and
// looks each up several times); a property of the id is one load. As DataStorage does, a data id
// this backend has no entry for (a tensor made on another backend) is moved here first.
import * as tf from '@tensorflow/tfjs';
import type { DataId, KernelBackend } from '@tensorflow/tfjs';

export class EntryStore<E extends object> {
  private readonly key = Symbol('dlcv-torch entry');
  private count = 0;

  constructor(private readonly backend: KernelBackend) {}

  /** A new data id holding `entry`. */
  add(entry: E): DataId {
    this.count++;
    return { [this.key]: entry };
  }

  /** The entry of `dataId`, moving its data here from the backend that has it when this one does not. */
  get(dataId: DataId): E {
    const own = this.entryOf(dataId);
    if (own !== undefined) return own;
    tf.engine().moveData(this.backend, dataId);
    const moved = this.entryOf(dataId);
    if (moved === undefined) throw new Error('dlcv-torch: a tensor moved to this backend has no data here');
    return moved;
  }

  /** Sets the entry of a data id, also one made by another backend (a move). */
  set(dataId: DataId, entry: E): void {
    if (this.entryOf(dataId) === undefined) this.count++;
    (dataId as Record<symbol, E | undefined>)[this.key] = entry;
  }

  has(dataId: DataId): boolean {
    return this.entryOf(dataId) !== undefined;
  }

  delete(dataId: DataId): void {
    if (this.entryOf(dataId) === undefined) return;
    this.count--;
    // undefined rather than `delete`, which would turn the id into a slow dictionary object
    (dataId as Record<symbol, E | undefined>)[this.key] = undefined;
  }

  /** Data ids holding an entry. */
  size(): number {
    return this.count;
  }

  private entryOf(dataId: DataId): E | undefined {
    return (dataId as Record<symbol, E | undefined>)[this.key];
  }
}
