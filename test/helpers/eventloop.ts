// Watches the event loop with a 1 ms timer. Two measures per interval between ticks:
// - gap: wall-clock time (what a server's other requests wait; on a busy machine it also counts the
//   time the OS gave the CPU to other processes);
// - busy: CPU time the JS thread itself spent in that interval (Linux /proc/self/task/<pid>/schedstat,
//   nanoseconds): the synchronous work that blocked the loop, whatever else the machine is doing.
import fs from 'node:fs';

const statFile = `/proc/self/task/${process.pid}/schedstat`;
const cpuNs = (): number => Number(fs.readFileSync(statFile, 'utf8').split(' ')[0]);

export interface LoopReport {
  /** Longest wall-clock interval between two ticks, ms. */
  maxGapMs: number;
  /** Most CPU time the JS thread spent within one interval, ms. */
  maxBusyMs: number;
  ticks: number;
}

export function watchEventLoop(): { stop(): LoopReport } {
  let lastWall = performance.now();
  let lastCpu = cpuNs();
  const report: LoopReport = { maxGapMs: 0, maxBusyMs: 0, ticks: 0 };
  const sample = () => {
    const wall = performance.now();
    const cpu = cpuNs();
    report.maxGapMs = Math.max(report.maxGapMs, wall - lastWall);
    report.maxBusyMs = Math.max(report.maxBusyMs, (cpu - lastCpu) / 1e6);
    report.ticks++;
    lastWall = wall;
    lastCpu = cpu;
  };
  const timer = setInterval(sample, 1);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return report;
    },
  };
}
