// numpy's .npy format, for embedrt encode --format npy.

/** Header bytes (magic, version, length, dict): always this many, whatever the row count. */
const HEADER_BYTES = 128;

/**
 * The header of a float32 [rows, dim] C-order .npy (version 1.0), padded to HEADER_BYTES so that a
 * streamed file's header can be rewritten with the final row count in place.
 */
export function npyHeader(rows: number, dim: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const text = `${dict}${' '.repeat(HEADER_BYTES - 10 - dict.length - 1)}\n`;
  const out = Buffer.alloc(HEADER_BYTES);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(text.length, 8);
  out.write(text, 10, 'latin1');
  return out;
}
