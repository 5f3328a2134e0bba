/**
 * A bounded LRU of verified tokens, keyed by the SHA-256 of the token so the cache never holds a
 * usable credential. Entries die at their own expiry (the caller passes the earliest moment the
 * token stops being valid), never later, and are swept out within SWEEP_INTERVAL_MS of it while the
 * cache is used; only successes are stored.
 */
import { hash } from "node:crypto";

/** How often expired entries are swept out: a token seen once would otherwise stay until evicted. */
export const SWEEP_INTERVAL_MS = 60_000;

interface Entry<T> {
  value: T;
  expiresAtMs: number;
}

export class TokenCache<T> {
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least recent.
  readonly #entries = new Map<string, Entry<T>>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  #nextSweepMs = 0;

  constructor(maxEntries: number, now: () => number) {
    this.#maxEntries = Math.max(0, Math.floor(maxEntries));
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): T | undefined {
    const now = this.#now();
    if (now >= this.#nextSweepMs) this.#sweep(now);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (now >= entry.expiresAtMs) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: T, expiresAtMs: number): void {
    const now = this.#now();
    if (now >= this.#nextSweepMs) this.#sweep(now);
    if (this.#maxEntries === 0 || now >= expiresAtMs) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAtMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  /**
   * Drops every expired entry, at most once a SWEEP_INTERVAL_MS, from a lookup or an insertion: an
   * expired token nobody presents again was kept until evicted (~2 KB each with what it keeps alive,
   * ~22 MB at the default 10,000 entries, after every token had expired).
   */
  #sweep(now: number): void {
    this.#nextSweepMs = now + SWEEP_INTERVAL_MS;
    for (const [key, entry] of this.#entries) if (now >= entry.expiresAtMs) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The cache key for a token: its SHA-256, so a heap dump of the cache yields no credentials. */
export function tokenCacheKey(token: string): string {
  // One-shot hashing: half the cost of createHash().update().digest() on the hot path.
  return hash("sha256", token, "base64url");
}
