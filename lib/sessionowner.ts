// What every model class that holds a native ONNX Runtime session shares (SentenceTransformer,
// CrossEncoder): releasing it (dispose, `using`), and refusing calls after that with E_DISPOSED.
import { EmbedrtError } from './errors.js';
import type { NativeModelHandle } from './native.js';

export abstract class SessionOwner {
  private handle: NativeModelHandle | undefined;

  protected constructor(handle: NativeModelHandle) {
    this.handle = handle;
  }

  /** Releases the ONNX Runtime session; later calls fail with E_DISPOSED. Idempotent. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = undefined;
  }

  /** `using model = await X.load(…)`: disposed when the block ends. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** `await using model = await X.load(…)`: disposed when the block ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /** Whether dispose() has run. */
  protected get disposed(): boolean {
    return this.handle === undefined;
  }

  /** The session, or E_DISPOSED naming the call. */
  protected live(where: string): NativeModelHandle {
    if (!this.handle) throw new EmbedrtError('E_DISPOSED', `${where}: the model was disposed; load it again`);
    return this.handle;
  }
}
