// The hub client's options and results, and the hub's file listing entries.
import type { OptionKeys } from '../validate.js';

/** Options of downloadModel() and of SentenceTransformer.load() for hub ids. */
export interface HubOptions {
  /** Branch, tag or commit. Default 'main'. */
  revision?: string;
  /** Hub base URL. Default $HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Access token for gated and private repos. Default $HF_TOKEN, else the token file in $HF_HOME. */
  token?: string;
  /** The hub cache folder. Default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Never touch the network; use what is cached. Default: $HF_HUB_OFFLINE is 1/true/yes/on. */
  offline?: boolean;
  /** Download every file of the repo, not only those embedrt needs. Default false. */
  allFiles?: boolean;
  /** Files downloaded at the same time (default 4). */
  concurrency?: number;
  /** A response that sends nothing for this long is abandoned and resumed (default 30,000 ms). */
  timeoutMs?: number;
  /** Attempts per request on network errors, cut-off or stalled responses and 5xx/429 (default 4). */
  attempts?: number;
  /** Called as bytes arrive: bytes done and total of the files being fetched. */
  onProgress?: (done: number, total: number, file: string) => void;
  signal?: AbortSignal;
}

export const HUB_OPTION_KEYS: OptionKeys<HubOptions> = {
  revision: true, endpoint: true, token: true, cacheDir: true, offline: true, allFiles: true, concurrency: true, timeoutMs: true, attempts: true, onProgress: true, signal: true,
};

/** What downloadModel() did. */
export interface DownloadResult {
  /** The snapshot folder: a model folder SentenceTransformer.load() accepts. */
  dir: string;
  commit: string;
  /** The repo files in the snapshot (paths relative to dir). */
  files: string[];
  /** Bytes fetched over the network by this call (0 when everything was cached). */
  downloadedBytes: number;
}

export interface Sibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256?: string; size?: number };
}
