import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describeDamage, tidyDecoderMessage } from './damage';
import { decodeImage, encodePng } from './io';

/** One PNG chunk, built by hand: length, type, data, CRC of type and data. */
function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A grey 8-bit PNG whose IDAT holds `rows` filtered rows of a `width`x`height` image. */
function greyPng(width: number, height: number, rows = height): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  const raw = Buffer.alloc(rows * (1 + width), 7);
  for (let r = 0; r < rows; r++) raw[r * (1 + width)] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

const pixels = (w: number, h: number, c: 1 | 3) => ({ width: w, height: h, channels: c, data: Uint8Array.from({ length: w * h * c }, (_, i) => (i * 37) & 255) });

describe('describeDamage', () => {
  it('finds nothing wrong in whole PNGs (plain and interlaced) and JPEGs, or in files of other kinds', async () => {
    expect(describeDamage(greyPng(5, 3))).toBeUndefined();
    expect(describeDamage(await encodePng(pixels(9, 7, 3)))).toBeUndefined();
    const raw = pixels(13, 11, 3);
    const options = { raw: { width: raw.width, height: raw.height, channels: raw.channels } };
    expect(describeDamage(await sharp(Buffer.from(raw.data), options).png({ progressive: true }).toBuffer())).toBeUndefined();
    const jpeg = await sharp(Buffer.from(raw.data), options).jpeg().toBuffer();
    expect(describeDamage(jpeg)).toBeUndefined();
    expect(describeDamage(Buffer.concat([jpeg, Buffer.alloc(16)]))).toBeUndefined();
    expect(describeDamage(Buffer.from('garbage'))).toBeUndefined();
  });

  it('says where a cut PNG ends, counting the chunk bytes that are there', () => {
    const whole = greyPng(6, 4);
    // Signature 8, IHDR 12+13 = 25, so IDAT's length field starts at byte 33 and its data at 41.
    const idatLength = whole.readUInt32BE(33);
    expect(whole.toString('latin1', 37, 41)).toBe('IDAT');
    expect(describeDamage(whole.subarray(0, 41 + 3))).toBe(`PNG file ends inside its IDAT chunk: 3 of ${idatLength} data bytes and no CRC`);
    expect(describeDamage(whole.subarray(0, 35))).toBe('PNG file ends at byte 35, before its IEND chunk');
    expect(describeDamage(whole.subarray(0, whole.length - 12))).toBe(`PNG file ends at byte ${whole.length - 12}, before its IEND chunk`);
  });

  it('names a chunk whose CRC does not match, and pixel data that does not inflate or is short', () => {
    const flipped = Buffer.from(greyPng(6, 4));
    flipped[41 + 2] = (flipped[41 + 2] as number) ^ 0x10;
    expect(describeDamage(flipped)).toBe('PNG IDAT chunk at byte 33 fails its CRC check');

    const ihdr = greyPng(6, 4).subarray(8, 33);
    const signature = greyPng(1, 1).subarray(0, 8);
    const bad = Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0xff]);
    const broken = Buffer.concat([signature, ihdr, chunk('IDAT', bad), chunk('IEND', new Uint8Array(0))]);
    expect(describeDamage(broken)).toMatch(/^PNG pixel data does not decompress \(zlib: .+\)$/);

    expect(describeDamage(greyPng(6, 4, 3))).toBe('PNG pixel data holds 21 of the 28 bytes its 6x4 header needs');
    expect(describeDamage(Buffer.concat([signature, ihdr, chunk('IEND', new Uint8Array(0))]))).toBe('PNG file has no IDAT chunk (no pixel data)');
  });

  it('says a cut JPEG ends before its end-of-image marker', async () => {
    const raw = pixels(16, 16, 3);
    const jpeg = await sharp(Buffer.from(raw.data), { raw: { width: 16, height: 16, channels: 3 } })
      .jpeg()
      .toBuffer();
    expect(describeDamage(jpeg.subarray(0, jpeg.length - 30))).toBe(`JPEG file ends at byte ${jpeg.length - 30}, before its end-of-image marker`);
  });
});

describe('decoder errors', () => {
  it('give the same reason for the same damaged file on every read, however many decodes run beside it', async () => {
    const cut = (await encodePng(pixels(28, 28, 1))).subarray(0, -40);
    const expected = `x.png: corrupt image data (${describeDamage(cut)})`;
    expect(expected).toMatch(/ends inside its IDAT chunk/);
    const reads = await Promise.all(
      Array.from({ length: 24 }, () =>
        decodeImage(cut, 'x.png').then(
          () => 'decoded',
          (e: Error) => e.message,
        ),
      ),
    );
    expect(new Set(reads)).toEqual(new Set([expected]));
  });

  it('drop repeated and empty lines of a decoder message', () => {
    expect(tidyDecoderMessage('vipspng: libpng read error\nvipspng: libpng read error\n')).toBe('vipspng: libpng read error');
    expect(tidyDecoderMessage('a\n\nb\na')).toBe('a; b');
    expect(tidyDecoderMessage('')).toBe('no reason given');
  });
});
