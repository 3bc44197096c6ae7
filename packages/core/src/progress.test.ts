import { Writable } from 'node:stream';
import { formatDuration, formatMetrics, progress } from './progress';

/** A stream that records what is written; `isTTY` as asked. */
function sink(isTTY: boolean): Writable & { isTTY: boolean; columns: number; text(): string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & { isTTY: boolean; columns: number; text(): string };
  w.isTTY = isTTY;
  w.columns = 200;
  w.text = () => chunks.join('');
  return w;
}

describe('progress, not a terminal', () => {
  it('prints a plain line every 10% and one at the end, with rate, ETA and metrics', () => {
    const out = sink(false);
    let t = 0;
    const bar = progress({ total: 100, label: 'epoch 1', stream: out, now: () => t });
    for (let i = 0; i < 100; i++) {
      t += 100; // 10 it/s
      bar.tick(1, { loss: 1 / (i + 1) });
    }
    bar.stop();
    const lines = out.text().trimEnd().split('\n');
    expect(lines).toHaveLength(10); // 10%, 20%, ..., 100%; stop adds nothing new
    expect(lines[0]).toBe('epoch 1 10/100 10% | 10 it/s | elapsed 1s | ETA 9s | loss=0.1000');
    expect(lines[4]).toMatch(/^epoch 1 50\/100 50% \| 10 it\/s \| elapsed 5s \| ETA 5s \| loss=0\.02000$/);
    expect(lines[9]).toBe('epoch 1 100/100 100% | 10 it/s | elapsed 10s | loss=0.01000');
    expect(out.text()).not.toMatch(new RegExp(`\r|${String.fromCharCode(0x1b)}`)); // no cursor control in logs
  });

  it('also prints when 30 s pass without a 10% step, and a final line on stop', () => {
    const out = sink(false);
    let t = 0;
    const bar = progress({ total: 1000, stream: out, now: () => t });
    for (let i = 0; i < 25; i++) {
      t += 2000; // 0.5 it/s: 10% would take 200 s
      bar.tick();
    }
    expect(out.text().trimEnd().split('\n')).toEqual(['15/1000 1% | 0.50 it/s | elapsed 30s | ETA 32m50s']);
    bar.stop();
    expect(out.text().trimEnd().split('\n')[1]).toBe('25/1000 2% | 0.50 it/s | elapsed 50s | ETA 32m30s');
  });

  it('prints nothing when quiet, but still counts', () => {
    const out = sink(true);
    const bar = progress({ total: 10, stream: out, quiet: true });
    bar.tick(3);
    bar.update(7, { loss: 1 });
    bar.stop();
    expect(bar.value).toBe(7);
    expect(out.text()).toBe('');
  });

  it('update() sets an absolute position and only crossed buckets print', () => {
    const out = sink(false);
    let t = 0;
    const bar = progress({ total: 10, stream: out, now: () => t, everyPercent: 50 });
    t = 1000;
    bar.update(4);
    expect(out.text()).toBe('');
    bar.update(6, { acc: 0.5, epoch: 3, phase: 'val' });
    bar.stop();
    expect(out.text()).toBe('6/10 60% | 6.0 it/s | elapsed 1s | ETA 1s | acc=0.5000 epoch=3 phase=val\n');
  });

  it('counts the rate from `start` when resuming, and stop() after no step prints nothing', () => {
    const out = sink(false);
    let t = 0;
    const bar = progress({ total: 100, start: 40, stream: out, now: () => t });
    t = 2000;
    bar.tick(10);
    bar.stop();
    expect(out.text()).toBe('50/100 50% | 5.0 it/s | elapsed 2s | ETA 10s\n');
    const idle = sink(false);
    progress({ total: 5, stream: idle }).stop();
    expect(idle.text()).toBe('');
  });

  it('rejects a bad total', () => {
    expect(() => progress({ total: -1 })).toThrow(/total/);
    expect(() => progress({ total: NaN })).toThrow(/total/);
  });
});

describe('progress, on a terminal', () => {
  it('draws a cli-progress bar with the label and metrics, and stops cleanly', () => {
    const out = sink(true);
    const bar = progress({ total: 4, label: 'sampling', stream: out });
    bar.tick(2, { loss: 0.25 });
    bar.stop();
    const text = out.text();
    expect(text).toContain('sampling');
    expect(text).toMatch(/2\/4/);
    expect(text).toContain('loss=0.2500');
    expect(text).toContain('50%');
  });
});

describe('formatting', () => {
  it('formats metrics and durations', () => {
    expect(formatMetrics({ loss: 0.123456, step: 12, lr: 2e-4, tag: 'x', bad: NaN })).toBe('loss=0.1235 step=12 lr=0.0002000 tag=x bad=NaN');
    expect([5, 65, 3599, 3600, 7620].map(formatDuration)).toEqual(['5s', '1m05s', '59m59s', '1h00m', '2h07m']);
  });
});
