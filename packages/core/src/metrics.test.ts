import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetricsFileError, MetricsLog, readMetrics } from './metrics';

describe('metrics JSON lines', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'metrics-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('appends one JSON object per line, in call order, creating folders', async () => {
    const file = path.join(dir, 'run', 'metrics.jsonl');
    const log = new MetricsLog<{ step: number; loss: number | null; note?: string }>(file);
    // Not awaited one by one: order must still be kept.
    const pending = Array.from({ length: 20 }, (_, i) => log.append({ step: i, loss: 1 / (i + 1) }));
    await Promise.all(pending);
    await log.append({ step: 20, loss: NaN, note: 'multi\nline "quoted"' });
    const text = await fs.readFile(file, 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(22);
    expect(lines[21]).toBe('');
    expect(lines[0]).toBe('{"step":0,"loss":1}');
    const { records, truncated } = await readMetrics<{ step: number; loss: number | null; note?: string }>(file);
    expect(truncated).toBeNull();
    expect(records.map((r) => r.step)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(records[20]).toEqual({ step: 20, loss: null, note: 'multi\nline "quoted"' });
  });

  it('writes each record when append resolves (nothing held back in memory)', async () => {
    const file = path.join(dir, 'm.jsonl');
    const log = new MetricsLog(file);
    await log.append({ epoch: 1, acc: 0.5 });
    expect(await fs.readFile(file, 'utf8')).toBe('{"epoch":1,"acc":0.5}\n');
    await log.append({ epoch: 2, acc: 0.6 });
    expect(await fs.readFile(file, 'utf8')).toBe('{"epoch":1,"acc":0.5}\n{"epoch":2,"acc":0.6}\n');
  });

  it('rejects records that are not objects', async () => {
    const log = new MetricsLog(path.join(dir, 'm.jsonl'));
    await expect(log.append([1, 2] as unknown as Record<string, unknown>)).rejects.toThrow(/plain object/);
    await expect(log.append(null as unknown as Record<string, unknown>)).rejects.toThrow(/plain object/);
    await log.append({ ok: true }); // the queue survives a rejected append
    expect((await readMetrics(path.join(dir, 'm.jsonl'))).records).toEqual([{ ok: true }]);
  });

  it('tolerates and reports a truncated last line', async () => {
    const file = path.join(dir, 'killed.jsonl');
    await fs.writeFile(file, '{"step":1,"loss":0.5}\n{"step":2,"loss":0.4}\n{"step":3,"lo');
    const { records, truncated } = await readMetrics(file);
    expect(records).toEqual([
      { step: 1, loss: 0.5 },
      { step: 2, loss: 0.4 },
    ]);
    expect(truncated).toEqual({ line: 3, text: '{"step":3,"lo' });
  });

  it('keeps a complete last record that only lost its newline', async () => {
    const file = path.join(dir, 'nonl.jsonl');
    await fs.writeFile(file, '{"a":1}\n{"a":2}');
    expect(await readMetrics(file)).toEqual({ records: [{ a: 1 }, { a: 2 }], truncated: null });
  });

  it('errors on a corrupt line in the middle, naming file and line', async () => {
    const file = path.join(dir, 'corrupt.jsonl');
    await fs.writeFile(file, '{"a":1}\n\n{"a":2,,}\n{"a":3}\n');
    const err = await readMetrics(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MetricsFileError);
    expect((err as MetricsFileError).line).toBe(3);
    expect((err as Error).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: corrupt line`));
    await fs.writeFile(file, '{"a":1}\n[1,2]\n');
    await expect(readMetrics(file)).rejects.toThrow(/:2: not a JSON object/);
    // A terminated line is never taken for a cut-short write.
    await fs.writeFile(file, '{"a":1}\n{"a":\n');
    await expect(readMetrics(file)).rejects.toThrow(/:2: corrupt line/);
  });

  it('names a missing file', async () => {
    await expect(readMetrics(path.join(dir, 'nope.jsonl'))).rejects.toThrow(/nope\.jsonl: file not found/);
  });

  it('resuming after a kill cuts the partial line instead of gluing onto it', async () => {
    const file = path.join(dir, 'resume.jsonl');
    await fs.writeFile(file, '{"step":1}\n{"step":2}\n{"step":3,"lo');
    await new MetricsLog(file).append({ step: 3, loss: 0.1 });
    expect(await fs.readFile(file, 'utf8')).toBe('{"step":1}\n{"step":2}\n{"step":3,"loss":0.1}\n');
    // A whole record missing only its newline is kept.
    await fs.writeFile(file, '{"step":1}');
    await new MetricsLog(file).append({ step: 2 });
    expect(await fs.readFile(file, 'utf8')).toBe('{"step":1}\n{"step":2}\n');
    // A file that is one partial line is emptied.
    await fs.writeFile(file, '{"st');
    await new MetricsLog(file).append({ step: 1 });
    expect(await fs.readFile(file, 'utf8')).toBe('{"step":1}\n');
  });

  it('finds the last newline across read chunks when mending a long partial line', async () => {
    const file = path.join(dir, 'long.jsonl');
    const long = `{"x":"${'a'.repeat(150_000)}`;
    await fs.writeFile(file, `{"step":1}\n${long}`);
    await new MetricsLog(file).append({ step: 2 });
    expect(await fs.readFile(file, 'utf8')).toBe('{"step":1}\n{"step":2}\n');
  });
});
