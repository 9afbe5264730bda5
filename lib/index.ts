export { EmbedrtError, type ErrorCode } from './errors.js';
export { runtimeInfo, type RuntimeInfo } from './runtime.js';
export {
  Tokenizer,
  BatchEncoding,
  type Encoding,
  type EncodeOptions,
  type BatchEncodeOptions,
} from './tokenizer.js';
