// Hugging Face Hub downloads into the cache layout Python tools share: the public surface. The parts:
// hub/options.ts (options, results), hub/cache.ts (layout, names, locks), hub/http.ts (requests,
// retries, errors), hub/download.ts (what to fetch, fetching and checking each file).
export { cachedSnapshot, hubCacheDir, isHubId, snapshotLooksComplete } from './hub/cache.js';
export { downloadModel } from './hub/download.js';
export type { DownloadResult, HubOptions } from './hub/options.js';
export { HUB_OPTION_KEYS } from './hub/options.js';
