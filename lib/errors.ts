/** Stable error codes; every error embedrt throws carries one of them in `code`. */
export type ErrorCode =
  | 'E_BAD_INPUT'
  | 'E_MODEL_FILES'
  | 'E_UNSUPPORTED'
  | 'E_PROVIDER'
  | 'E_DISPOSED'
  | 'E_ABORTED'
  | 'E_NATIVE_LOAD'
  | 'E_RUNTIME'
  | 'E_NO_MEMORY'
  | 'E_HUB_AUTH'
  | 'E_HUB_NOT_FOUND'
  | 'E_HUB_DOWNLOAD'
  | 'E_HUB_CHECKSUM'
  | 'E_HUB_UNSAFE'
  | 'E_HUB_OFFLINE'
  | 'E_CACHE'
  | 'E_OVERLOADED'
  | 'E_INTERNAL';

/**
 * The one error class of embedrt. `code` is stable; `message` names the argument, file or text index
 * at fault and what to do.
 *
 * @example
 * try { tokenizer.encode(42 as any) } catch (e) { if (e instanceof EmbedrtError) console.log(e.code) }
 */
export class EmbedrtError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbedrtError';
    this.code = code;
  }
}

/** Re-throws a native error as an EmbedrtError, keeping the caller's stack (created before the call). */
export function rethrowNative(err: unknown, callerStack?: Error): never {
  if (err instanceof EmbedrtError) throw err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' && e.code.startsWith('E_') ? (e.code as ErrorCode) : 'E_INTERNAL';
  const out = new EmbedrtError(code, String(e?.message ?? err), { cause: err });
  if (callerStack?.stack) out.stack = `${out.name}: ${out.message}\n${callerStack.stack.split('\n').slice(1).join('\n')}`;
  throw out;
}
