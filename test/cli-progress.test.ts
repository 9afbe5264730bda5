// The CLI's progress: a bar with rate and time left on a terminal, sparse plain lines in a log.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { duration, progressBar } from '../lib/cli/common.js';

let written: string[] = [];
function capture() {
  written = [];
  vi.useFakeTimers({ now: new Date('2026-12-03T00:00:00Z') });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    written.push(String(chunk));
    return true;
  });
}
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('progressBar', () => {
  it('on a terminal: one redrawn line with the share done, the rate and the time left', () => {
    capture();
    const bar = progressBar('embedding', undefined, { tty: true, rateUnit: 'texts' });
    vi.advanceTimersByTime(2000);
    bar.update(500, undefined, 0.25);
    vi.advanceTimersByTime(50);
    bar.update(510, undefined, 0.26); // within 100 ms: not redrawn
    vi.advanceTimersByTime(2000);
    bar.update(1000, undefined, 0.5);
    bar.finish();
    expect(written.length).toBe(4); // two updates, the final redraw, the line end
    expect(written[0]).toBe('\r\x1b[Kembedding [######..................] 25% 500 texts · 250/s · ETA 6s');
    expect(written[1]).toBe('\r\x1b[Kembedding [############............] 50% 1,000 texts · 247/s · ETA 4s');
    expect(written[3]).toBe('\n');
  });

  it('in a log: no carriage returns, a line at most every 10 s, and one at the end', () => {
    capture();
    const bar = progressBar('embedding', undefined, { tty: false, rateUnit: 'texts' });
    for (let s = 1; s <= 35; s++) {
      vi.advanceTimersByTime(1000);
      bar.update(s * 100, 3500);
    }
    bar.finish();
    expect(written.every((w) => !w.includes('\r') && w.endsWith('\n'))).toBe(true);
    expect(written).toEqual([
      'embedding: 31%, 1,100/3,500 texts · 100/s · ETA 24s\n',
      'embedding: 60%, 2,100/3,500 texts · 100/s · ETA 14s\n',
      'embedding: 88%, 3,100/3,500 texts · 100/s · ETA 4s\n',
      'embedding: 100%, 3,500/3,500 texts · 100/s\n',
    ]);
  });

  it('duration', () => {
    expect([duration(0.4), duration(59), duration(61), duration(3599), duration(7440)]).toEqual(['0s', '59s', '1m01s', '59m59s', '2h04m']);
  });
});
