/**
 * An issuer's published metadata: OpenID Connect discovery first, then RFC 8414 authorization server
 * metadata. It gives the key source its `jwks_uri` and the auth runtime its `authorization_endpoint`
 * and the document it mirrors, from one discovery shared by both (`IssuerMetadata`). The metadata must
 * name exactly the configured issuer (OIDC Discovery §4.3, RFC 8414 §3.3), or an attacker who can serve
 * one document could swap keys.
 */
import { boundedText } from "./bounded-body.js";
import { JwksFault } from "./errors.js";

/**
 * Where an issuer's metadata may be, in the order tried: OpenID Connect discovery (appended to the
 * issuer, OIDC Discovery §4), then RFC 8414 §3.1 (`/.well-known/oauth-authorization-server` inserted
 * between the host and the issuer's path), then the two other forms clients use (the MCP
 * authorization spec lists them): OIDC inserted, RFC 8414 appended. Without a path the forms coincide.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  const { origin } = url;
  if (path === "")
    return [`${origin}/.well-known/openid-configuration`, `${origin}/.well-known/oauth-authorization-server`];
  return [
    `${origin}${path}/.well-known/openid-configuration`,
    `${origin}/.well-known/oauth-authorization-server${path}`,
    `${origin}/.well-known/openid-configuration${path}`,
    `${origin}${path}/.well-known/oauth-authorization-server`,
  ];
}

/** Metadata documents are small (a few KiB); anything bigger is not one, and is not read further. */
const MAX_METADATA_BYTES = 256 * 1024;

/** Why one metadata location gave no usable document. A code, safe to log: never the body. */
export type MetadataFailure =
  | "FETCH_FAILED"
  | "TIMEOUT"
  | "HTTP_STATUS"
  | "TOO_LARGE"
  | "NOT_JSON"
  | "NOT_AN_OBJECT"
  | "ISSUER_MISMATCH"
  | "NO_JWKS_URI";

export interface CandidateFailure {
  url: string;
  reason: MetadataFailure;
}

/** The shortest pause between two background attempts, whatever jwks.cooldown says. */
const MIN_RETRY_MS = 250;

type Attempt = { document: Record<string, unknown>; url: string } | { failures: CandidateFailure[]; mismatch: boolean };

/**
 * One issuer's metadata, discovered once for every consumer. An attempt asks the locations of
 * `metadataUrls` under one deadline (`timeoutMs` for the whole attempt, not per location): the first
 * at once, each next one as soon as the one before it failed, or at the latest after its share of the
 * deadline, so a location that never answers does not keep the others from being asked. The document
 * of the most preferred location that answered with one wins (RFC 8414 §3.1's order), and the
 * locations still in flight are cancelled. Concurrent callers share an attempt; a document once found
 * is kept. A consumer that must not wait for a token to ask again (challenges, the mirror) has it
 * retried in the background (`retryUntilFound`).
 */
export class IssuerMetadata {
  readonly issuer: string;
  readonly #timeoutMs: number;
  #found: { document: Record<string, unknown>; url: string } | undefined;
  #attempt: Promise<Attempt> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(issuer: string, timeoutMs: number) {
    this.issuer = issuer;
    this.#timeoutMs = timeoutMs;
  }

  /** The document, once one was found (never waits). */
  get document(): Record<string, unknown> | undefined {
    return this.#found?.document;
  }

  /**
   * The document: the one already found, else the attempt in flight, else a new attempt. Rejects with
   * a `JwksFault` naming what each location gave instead.
   */
  async discover(): Promise<Record<string, unknown>> {
    if (this.#found) return this.#found.document;
    this.#attempt ??= this.#run().finally(() => {
      this.#attempt = undefined;
    });
    const attempt = await this.#attempt;
    if ("document" in attempt) return attempt.document;
    throw new JwksFault(attempt.mismatch ? "DISCOVERY_ISSUER_MISMATCH" : "DISCOVERY_FAILED", attempt.failures);
  }

  /** The JWKS URL the document names; a `JwksFault` when there is no document or it names none. */
  async jwksUri(): Promise<string> {
    const document = await this.discover();
    const jwksUri = document.jwks_uri;
    if (typeof jwksUri === "string" && isHttpUrl(jwksUri)) return jwksUri;
    throw new JwksFault("DISCOVERY_FAILED", [{ url: this.#found?.url ?? this.issuer, reason: "NO_JWKS_URI" }]);
  }

  /**
   * Until a document is found, asks again in the background: after 1 s (or `maxDelayMs` when shorter),
   * then twice as long each time, at most `maxDelayMs` apart (never more often than every 250 ms).
   * An attempt made for a token counts too. `found` is called once a document is there, `failed`
   * after each attempt that found none.
   */
  retryUntilFound(maxDelayMs: number, events: { found(): void; failed(err: unknown): void }): void {
    const ceiling = Math.max(maxDelayMs, MIN_RETRY_MS);
    let delay = Math.min(1_000, ceiling);
    const schedule = () => {
      if (this.#closed) return;
      this.#retry = setTimeout(() => {
        this.discover().then(
          () => events.found(),
          (err: unknown) => {
            events.failed(err);
            delay = Math.min(delay * 2, ceiling);
            schedule();
          },
        );
      }, delay);
      this.#retry.unref();
    };
    if (this.#found) events.found();
    else schedule();
  }

  /** Stops the background retries. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
  }

  async #run(): Promise<Attempt> {
    const urls = metadataUrls(this.issuer);
    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(), this.#timeoutMs);
    const started: Promise<{ metadata: Record<string, unknown> } | CandidateFailure>[] = [];
    const start = (i: number) => {
      started[i] ??= fetchMetadata(urls[i] as string, this.issuer, controller.signal);
      return started[i];
    };
    const share = this.#timeoutMs / urls.length;
    const timers = urls.slice(1).map((_, i) => setTimeout(() => void start(i + 1), (i + 1) * share));
    try {
      const failures: CandidateFailure[] = [];
      for (let i = 0; i < urls.length; i++) {
        const found = await start(i);
        if ("metadata" in found) {
          this.#found = { document: found.metadata, url: urls[i] as string };
          return this.#found;
        }
        failures.push(found);
      }
      return { failures, mismatch: failures.some((f) => f.reason === "ISSUER_MISMATCH") };
    } finally {
      clearTimeout(deadline);
      for (const timer of timers) clearTimeout(timer);
      controller.abort(); // the less preferred locations still in flight
    }
  }
}

/** One location's metadata document naming this issuer, or why it has none. */
async function fetchMetadata(
  url: string,
  issuer: string,
  signal: AbortSignal,
): Promise<{ metadata: Record<string, unknown> } | CandidateFailure> {
  let text: string | undefined;
  try {
    // Redirects are not followed, as for the JWKS itself: the issuer publishes where it says it does.
    const response = await fetch(url, { redirect: "manual", signal, headers: { accept: "application/json" } });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return { url, reason: "HTTP_STATUS" };
    }
    text = await boundedText(response, MAX_METADATA_BYTES);
  } catch {
    return { url, reason: signal.aborted ? "TIMEOUT" : "FETCH_FAILED" };
  }
  if (text === undefined) return { url, reason: "TOO_LARGE" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { url, reason: "NOT_JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { url, reason: "NOT_AN_OBJECT" };
  const metadata = parsed as Record<string, unknown>;
  return metadata.issuer === issuer ? { metadata } : { url, reason: "ISSUER_MISMATCH" };
}

export function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}
