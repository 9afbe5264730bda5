// What `embedrt encode` writes to, whatever the format: the sinks of output.ts and parquet.ts.

/** Rows to write: consecutive rows of the output, with their input positions and ids. */
export interface OutputRows {
  /** Each row's position in the whole input (0-based; with --shard, not consecutive). */
  indices: number[];
  ids: (string | number | undefined)[];
  data: Float32Array;
  rows: number;
}

export interface EmbeddingSink {
  /** Rows the output already held when it was opened (--resume), and rows written since. */
  rows: number;
  write(rows: OutputRows): Promise<void>;
  /** Completes the output: the .npy header's row count, the sidecar, the final names. */
  finish(): Promise<void>;
  /** Stops early: what is written stays, up to a whole row; returns a line saying where it is. */
  stop(): Promise<string>;
}
