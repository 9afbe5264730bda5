export { EmbedrtError, type ErrorCode } from './errors.js';
export { runtimeInfo, type RuntimeInfo } from './runtime.js';
