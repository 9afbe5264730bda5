// glibc's malloc, tuned for a long-running server process.
import { native } from '../native.js';

/**
 * Tunes glibc's malloc for the rest of the process (Linux): one arena for every thread (each thread
 * otherwise grows its own, which keeps the pages freed there) and blocks of 1 MiB or more mapped on
 * their own and returned to the system when freed (glibc otherwise raises that threshold as large
 * blocks come and go, and the activations of one large batch stay in the heap). Measured behind
 * `embedrt serve` with all-MiniLM-L6-v2 (bench/README, *The server under load*): peak RSS about a third
 * lower, throughput unchanged. Best called before the model loads. Returns false, changing nothing,
 * where the C library is not glibc. `embedrt serve` calls it unless `--malloc system`.
 */
export function tuneMalloc(): boolean {
  return native().tuneMalloc(1, 1 << 20);
}
