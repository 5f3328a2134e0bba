/**
 * The development authorization server's storage: in memory, as before (registered clients, sessions,
 * grants and refresh tokens are lost on restart: docs/claude.md), but bounded per model.
 *
 * oidc-provider's own memory adapter keeps every model in one cache of 1,000 entries: 1,000 client
 * registrations — open to anyone, from any web page through the registration CORS — pushed out every
 * client, session, grant and refresh token. Here each model has its own store and bound:
 * - clients (and their registration access tokens) are never evicted: once CLIENT_LIMIT clients are
 *   registered, a new registration is refused (503 temporarily_unavailable, saying why) and every
 *   registered client goes on working;
 * - every other model is a least-recently-used cache of MODEL_LIMIT live entries of its own, so a
 *   flood of one kind (interactions from /auth, sessions from the login form, which accepts any name)
 *   only pushes out entries of that kind. Expired entries go first.
 * - each model also holds at most MODEL_BYTES (clients CLIENT_BYTES) of payloads, measured as JSON:
 *   a count alone let 5,000 pushed authorization requests of 56 KB each (a `state` of that size, from
 *   anyone) hold 280 MB per model, ~1.2 GB over a few kinds. Expired entries are swept every minute.
 */
import type { Adapter, AdapterPayload } from "oidc-provider";

/** The most clients the development server registers before refusing registrations. */
export const CLIENT_LIMIT = 1000;
/** The most live entries of any other model (sessions, grants, interactions, each kind of token). */
export const MODEL_LIMIT = 5000;
/** The most payload bytes (as JSON) one model holds; clients: CLIENT_BYTES. A typical entry is ~1 KB. */
export const MODEL_BYTES = 8 * 1024 * 1024;
export const CLIENT_BYTES = 16 * 1024 * 1024;
/** How often expired entries are dropped (else only when a store is full). */
const SWEEP_MS = 60_000;

/** Models whose entries belong to a grant, revoked together by revokeByGrantId (as oidc-provider's adapter). */
const GRANTABLE = new Set([
  "AccessToken",
  "AuthorizationCode",
  "RefreshToken",
  "DeviceCode",
  "BackchannelAuthenticationRequest",
  "PreAuthorizedCode",
]);
/** Never evicted: refused when full. */
const CAPPED = new Set(["Client", "RegistrationAccessToken"]);

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds; Infinity for entries without expiry (clients). */
  expiresAt: number;
  /** The payload's size as JSON, counted against the model's byte budget. */
  bytes: number;
}

export interface DevStorageOptions {
  /** The error a refused save throws (e.g. oidc-provider's, answered to the client as is). */
  full: (model: string, limit: number, maxBytes: number) => Error;
  clientLimit?: number;
  modelLimit?: number;
  clientBytes?: number;
  modelBytes?: number;
}

export interface DevStorage {
  /** oidc-provider's `adapter` configuration: a factory called once per model. */
  adapter: (model: string) => Adapter;
  /** Live entries per model (for tests and diagnostics). */
  size(model: string): number;
  /** Payload bytes held per model (for tests and diagnostics). */
  bytes(model: string): number;
  /** Stops the sweep of expired entries. */
  close(): void;
}

export function createDevStorage(options: DevStorageOptions): DevStorage {
  const clientLimit = options.clientLimit ?? CLIENT_LIMIT;
  const modelLimit = options.modelLimit ?? MODEL_LIMIT;
  const clientBytes = options.clientBytes ?? CLIENT_BYTES;
  const modelBytes = options.modelBytes ?? MODEL_BYTES;
  const stores = new Map<string, ModelStore>();
  /** grantId -> the `model:id` keys of the tokens issued under it. */
  const grants = new Map<string, Set<string>>();
  /** Session uid -> session id; user code -> device code id. */
  const byUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();

  const unindex = (model: string, id: string, payload: AdapterPayload) => {
    if (typeof payload.uid === "string" && byUid.get(payload.uid) === id) byUid.delete(payload.uid);
    if (typeof payload.userCode === "string" && byUserCode.get(payload.userCode) === id)
      byUserCode.delete(payload.userCode);
    if (GRANTABLE.has(model) && typeof payload.grantId === "string") {
      const members = grants.get(payload.grantId);
      members?.delete(`${model}:${id}`);
      if (members?.size === 0) grants.delete(payload.grantId);
    }
  };

  const storeFor = (model: string): ModelStore => {
    let store = stores.get(model);
    if (!store) {
      const capped = CAPPED.has(model);
      store = new ModelStore(
        model,
        capped ? clientLimit : modelLimit,
        capped ? clientBytes : modelBytes,
        capped,
        options.full,
        unindex,
      );
      stores.set(model, store);
    }
    return store;
  };

  const adapter = (model: string): Adapter => {
    const store = storeFor(model);
    return {
      async upsert(id, payload, expiresIn) {
        const expiresAt = typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
        store.set(id, { payload, expiresAt, bytes: JSON.stringify(payload).length });
        if (model === "Session" && typeof payload.uid === "string") byUid.set(payload.uid, id);
        if (typeof payload.userCode === "string") byUserCode.set(payload.userCode, id);
        if (GRANTABLE.has(model) && typeof payload.grantId === "string") {
          const members = grants.get(payload.grantId) ?? new Set<string>();
          members.add(`${model}:${id}`);
          grants.set(payload.grantId, members);
        }
      },
      async find(id) {
        return store.get(id)?.payload;
      },
      async findByUid(uid) {
        const id = byUid.get(uid);
        return id === undefined ? undefined : store.get(id)?.payload;
      },
      async findByUserCode(userCode) {
        const id = byUserCode.get(userCode);
        return id === undefined ? undefined : store.get(id)?.payload;
      },
      async consume(id) {
        const entry = store.get(id);
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        store.delete(id);
      },
      async revokeByGrantId(grantId) {
        const members = grants.get(grantId);
        if (!members) return;
        grants.delete(grantId);
        for (const key of members) {
          const colon = key.indexOf(":");
          stores.get(key.slice(0, colon))?.delete(key.slice(colon + 1));
        }
      },
    };
  };

  const sweep = setInterval(() => {
    for (const store of stores.values()) store.dropExpired();
  }, SWEEP_MS);
  sweep.unref();
  return {
    adapter,
    size: (model) => stores.get(model)?.size() ?? 0,
    bytes: (model) => stores.get(model)?.bytes ?? 0,
    close: () => clearInterval(sweep),
  };
}

/** One model's entries, in least-recently-used order (a Map keeps insertion order). */
class ModelStore {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(
    readonly model: string,
    readonly limit: number,
    readonly maxBytes: number,
    /** Refuse new entries when full instead of evicting. */
    readonly capped: boolean,
    readonly full: (model: string, limit: number, maxBytes: number) => Error,
    readonly onRemove: (model: string, id: string, payload: AdapterPayload) => void,
  ) {}

  get(id: string): Entry | undefined {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(id);
      return undefined;
    }
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return entry;
  }

  get bytes(): number {
    return this.#bytes;
  }

  set(id: string, entry: Entry): void {
    if (entry.bytes > this.maxBytes) throw this.full(this.model, this.limit, this.maxBytes);
    const previous = this.#entries.get(id);
    const added = entry.bytes - (previous?.bytes ?? 0);
    const over = () =>
      (previous === undefined && this.#entries.size >= this.limit) || this.#bytes + added > this.maxBytes;
    if (over()) this.dropExpired();
    if (over()) {
      if (this.capped) throw this.full(this.model, this.limit, this.maxBytes);
      // Least recently used first, never the entry being replaced.
      for (const oldest of this.#entries.keys()) {
        if (!over()) break;
        if (oldest !== id) this.delete(oldest);
      }
    }
    if (previous && this.#entries.has(id)) this.delete(id);
    this.#entries.set(id, entry);
    this.#bytes += entry.bytes;
  }

  delete(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
    this.onRemove(this.model, id, entry.payload);
  }

  size(): number {
    this.dropExpired();
    return this.#entries.size;
  }

  dropExpired(): void {
    const now = Date.now();
    for (const [id, entry] of this.#entries) if (entry.expiresAt <= now) this.delete(id);
  }
}
