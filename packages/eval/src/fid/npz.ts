/**
 * NumPy .npz files (a zip of .npy arrays), enough to read pytorch-fid's precomputed statistics
 * (`mu`, `sigma`, written by np.savez or np.savez_compressed) and to write ours the same way
 * (np.savez: stored, uncompressed). Only little-endian float32/float64 C-order arrays.
 */
import { inflateRawSync, crc32 } from 'node:zlib';

export interface NpyArray {
  shape: number[];
  data: Float64Array;
}

export class NpzError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'NpzError';
  }
}

/** Reads every array of an .npz archive (values as float64). */
export function readNpz(buf: Buffer, file: string): Record<string, NpyArray> {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new NpzError(file, 'not a zip archive (.npz)');
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: Record<string, NpyArray> = {};
  for (let e = 0; e < entries; e++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new NpzError(file, 'damaged zip central directory');
    const method = buf.readUInt16LE(p + 10);
    const compSize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28),
      extraLen = buf.readUInt16LE(p + 30),
      commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (compSize === 0xffffffff) throw new NpzError(file, `entry ${name}: zip64 archives are not supported`);
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new NpzError(file, `entry ${name}: damaged local header`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + compSize);
    let bytes: Buffer;
    if (method === 0) bytes = raw;
    else if (method === 8) bytes = inflateRawSync(raw);
    else throw new NpzError(file, `entry ${name}: zip compression method ${method} is not supported`);
    out[name.replace(/\.npy$/, '')] = parseNpy(bytes, `${file}:${name}`);
  }
  return out;
}

function parseNpy(b: Buffer, where: string): NpyArray {
  if (b.length < 10 || b[0] !== 0x93 || b.toString('latin1', 1, 6) !== 'NUMPY') throw new NpzError(where, 'not a .npy array');
  const major = b[6] as number;
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = b.toString('latin1', headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpzError(where, `unreadable .npy header ${header.trim()}`);
  if (fortran === 'True') throw new NpzError(where, 'Fortran-order arrays are not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((a, c) => a * c, 1);
  const off = headerStart + headerLen;
  const data = new Float64Array(count);
  if (descr === '<f8') for (let i = 0; i < count; i++) data[i] = b.readDoubleLE(off + 8 * i);
  else if (descr === '<f4') for (let i = 0; i < count; i++) data[i] = b.readFloatLE(off + 4 * i);
  else throw new NpzError(where, `dtype ${descr} is not supported (float32/float64 little-endian only)`);
  if (b.length < off + count * (descr === '<f8' ? 8 : 4)) throw new NpzError(where, 'truncated array data');
  return { shape, data };
}

function npyBytes(arr: NpyArray): Buffer {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${arr.shape.join(', ')}${arr.shape.length === 1 ? ',' : ''}), }`;
  // Pad so that the data starts on a 64-byte boundary, header ends with a newline (NEP 1).
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head[0] = 0x93;
  head.write('NUMPY', 1, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.alloc(arr.data.length * 8);
  arr.data.forEach((v, i) => data.writeDoubleLE(v, 8 * i));
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}

/** An uncompressed .npz archive (what np.savez writes). Fixed timestamps: same arrays, same bytes. */
export function writeNpz(arrays: Record<string, NpyArray>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [key, arr] of Object.entries(arrays)) {
    const name = Buffer.from(`${key}.npy`, 'utf8');
    const body = npyBytes(arr);
    const crc = crc32(body) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(body.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(body.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = Object.keys(arrays).length;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}
