/**
 * A tiny authorization server for tests: a node:http server on 127.0.0.1 (port 0) that publishes a
 * JWKS of keys the test owns, optional discovery metadata, and faults on demand. Tokens are signed
 * here with node:crypto directly (not jose), so a test can forge any header or claim it likes.
 */
import {
  constants,
  createHmac,
  generateKeyPair as generateKeyPairCallback,
  type KeyObject,
  randomUUID,
  sign,
} from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";

const generateKeyPair = promisify(generateKeyPairCallback);

export type TestAlg = "RS256" | "PS256" | "ES256" | "EdDSA";

export interface TestKey {
  kid: string;
  alg: TestAlg;
  privateKey: KeyObject;
  /** Published form: public members plus `kid`, `alg`, `use`. */
  publicJwk: Record<string, unknown>;
  /** The same with the private members (`d`, …): what a broken endpoint might publish. */
  privateJwk: Record<string, unknown>;
  /** SPKI PEM. */
  publicPem: string;
}

export async function generateTestKey(alg: TestAlg = "RS256", kid: string = randomUUID()): Promise<TestKey> {
  const { privateKey, publicKey } =
    alg === "ES256"
      ? await generateKeyPair("ec", { namedCurve: "P-256" })
      : alg === "EdDSA"
        ? await generateKeyPair("ed25519")
        : await generateKeyPair("rsa", { modulusLength: 2048 });
  const extra = { kid, alg, use: "sig" };
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { ...publicKey.export({ format: "jwk" }), ...extra },
    privateJwk: { ...privateKey.export({ format: "jwk" }), ...extra },
    publicPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
  };
}

export function b64url(value: string | Uint8Array | object): string {
  if (typeof value === "string" || value instanceof Uint8Array) return Buffer.from(value).toString("base64url");
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** Header members set to `undefined` are left out (e.g. `{ kid: undefined }` for a token without `kid`). */
export type Header = Record<string, unknown>;

/**
 * Signs a JWT with a test key (the signature algorithm follows the key, whatever `alg` the header
 * claims) or with an HMAC secret (HS256).
 */
export function signJwt(
  signer: TestKey | { secret: string | Uint8Array },
  payload: object,
  header: Header = {},
): string {
  const base: Header =
    "secret" in signer ? { alg: "HS256", typ: "JWT" } : { alg: signer.alg, typ: "at+jwt", kid: signer.kid };
  const input = `${b64url(dropUndefined({ ...base, ...header }))}.${b64url(payload)}`;
  return `${input}.${b64url(signature(signer, Buffer.from(input)))}`;
}

/** A token with a given (possibly empty or bogus) signature segment. */
export function unsignedJwt(header: Header, payload: object, signatureSegment = ""): string {
  return `${b64url(header)}.${b64url(payload)}.${signatureSegment}`;
}

function signature(signer: TestKey | { secret: string | Uint8Array }, data: Buffer): Buffer {
  if ("secret" in signer) return createHmac("sha256", signer.secret).update(data).digest();
  switch (signer.alg) {
    case "RS256":
      return sign("sha256", data, signer.privateKey);
    case "PS256":
      return sign("sha256", data, {
        key: signer.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
    case "ES256":
      return sign("sha256", data, { key: signer.privateKey, dsaEncoding: "ieee-p1363" });
    case "EdDSA":
      return sign(null, data, signer.privateKey);
  }
}

function dropUndefined(header: Header): Header {
  return Object.fromEntries(Object.entries(header).filter(([, v]) => v !== undefined));
}

export const TEST_AUDIENCE = "https://mcp.example.test/mcp";

export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** What the key endpoint does. */
export type JwksFaultMode =
  | "none"
  | "down" // drops the connection: fetch fails with `TypeError: fetch failed`
  | "slow" // answers after `slowMs`
  | "html"
  | "empty-object" // `{}`
  | "private-keys" // the published keys with their private members
  | "redirect" // 302 to /jwks-moved (which would serve the right keys)
  | "not-found"
  | "endless"; // a chunked answer (no Content-Length) that goes on until the client hangs up (64 MiB at most)

/**
 * What every metadata location (any `/.well-known/` path) does; "none" serves the document of
 * `discovery` at its one location and 404 elsewhere.
 */
export type MetadataFaultMode =
  | "none"
  | "error" // 500
  | "hang" // never answers (the request stays open until the client gives up)
  | "endless" // 200, chunked (no Content-Length), a document that goes on until the client hangs up (64 MiB at most)
  | "huge-declared"; // 200 declaring a 1 GiB Content-Length, written until the client hangs up (64 MiB at most)

/** Written first by the "endless" metadata faults: must never reach a log line. */
export const METADATA_CANARY = "CANARY-metadata-body-3f9a";

export interface TestIssuerOptions {
  /** Appended to the origin to form the issuer: "" (default), "/" (Auth0 style) or a path. */
  issuerPath?: string;
  /** Which metadata document to serve (default none). */
  /** `oauth`: appended to the issuer's path; `oauth-inserted`: RFC 8414 §3.1, between host and path. */
  discovery?: "openid" | "oauth" | "oauth-inserted" | "none";
  /** The `issuer` the metadata claims (default the real one). */
  metadataIssuer?: string;
  /** The `authorization_endpoint` the metadata names (default `<origin>/authorize`). */
  authorizationEndpoint?: string;
  /** Published keys (default: one fresh RS256 key). */
  keys?: TestKey[];
  fault?: JwksFaultMode;
  slowMs?: number;
  metadataFault?: MetadataFaultMode;
}

export class TestIssuer {
  readonly origin: string;
  readonly issuer: string;
  readonly jwksUri: string;
  /** Keys the JWKS endpoint publishes; replace to rotate. */
  published: TestKey[];
  /** The key `token()` signs with by default. */
  signingKey: TestKey;
  fault: JwksFaultMode;
  slowMs: number;
  /** Requests that reached the JWKS endpoint. */
  jwksFetches = 0;
  /** Bytes the "endless" fault wrote before the client hung up. */
  endlessBytesSent = 0;
  metadataFault: MetadataFaultMode;
  /** Requests that reached a metadata location (any `/.well-known/` path). */
  metadataRequests = 0;
  /** Bytes the "endless" and "huge-declared" metadata faults wrote, over all requests. */
  metadataBytesSent = 0;
  /** Every path requested, in order. */
  readonly requests: string[] = [];
  readonly #server: Server;
  readonly #options: TestIssuerOptions;

  constructor(server: Server, origin: string, keys: TestKey[], options: TestIssuerOptions) {
    this.#server = server;
    this.#options = options;
    this.origin = origin;
    this.issuer = `${origin}${options.issuerPath ?? ""}`;
    this.jwksUri = `${origin}/jwks`;
    this.published = keys;
    const [first] = keys;
    if (first === undefined) throw new Error("a test issuer needs a key");
    this.signingKey = first;
    this.fault = options.fault ?? "none";
    this.slowMs = options.slowMs ?? 2_000;
    this.metadataFault = options.metadataFault ?? "none";
  }

  /** A valid access token by default: every claim can be overridden, or removed with `undefined`. */
  token(claims: Record<string, unknown> = {}, header: Header = {}, key: TestKey = this.signingKey): string {
    const now = nowSec();
    const payload = {
      iss: this.issuer,
      sub: "user-1",
      aud: TEST_AUDIENCE,
      iat: now,
      exp: now + 300,
      scope: "docs.read",
      ...claims,
    };
    return signJwt(key, dropUndefined(payload), header);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? "/", this.origin).pathname;
    this.requests.push(path);
    if (path === "/jwks") {
      this.jwksFetches++;
      this.#serveJwks(req, res);
    } else if (path === "/jwks-moved") {
      json(res, { keys: this.published.map((k) => k.publicJwk) });
    } else if (path.includes("/.well-known/") && this.metadataFault !== "none") {
      this.metadataRequests++;
      this.#serveMetadataFault(res);
    } else if (path === this.#metadataPath()) {
      this.metadataRequests++;
      const { metadataIssuer = this.issuer, authorizationEndpoint = `${this.origin}/authorize` } = this.#options;
      json(res, {
        issuer: metadataIssuer,
        jwks_uri: this.jwksUri,
        authorization_endpoint: authorizationEndpoint,
        response_types_supported: ["code"],
      });
    } else {
      res.writeHead(404).end();
    }
  }

  #metadataPath(): string | undefined {
    const { discovery = "none" } = this.#options;
    if (discovery === "none") return undefined;
    const base = new URL(this.issuer).pathname.replace(/\/$/, "");
    if (discovery === "oauth-inserted") return `/.well-known/oauth-authorization-server${base}`;
    const suffix = discovery === "openid" ? "openid-configuration" : "oauth-authorization-server";
    return `${base}/.well-known/${suffix}`;
  }

  #serveMetadataFault(res: ServerResponse): void {
    switch (this.metadataFault) {
      case "none":
        return;
      case "error":
        res.writeHead(500).end();
        return;
      case "hang":
        return;
      case "endless":
      case "huge-declared": {
        const declared = this.metadataFault === "huge-declared" ? { "content-length": String(1024 ** 3) } : {};
        res.writeHead(200, { "content-type": "application/json", ...declared });
        const head = `{"issuer":${JSON.stringify(this.issuer)},"canary":"${METADATA_CANARY}","filler":"`;
        res.write(head);
        this.metadataBytesSent += head.length;
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < 64 * 1024 * 1024 && !res.destroyed) {
            sent += chunk.length;
            this.metadataBytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          // Short of a declared length: the client sees the answer cut off.
          if (!res.destroyed) res.end('"}');
        };
        pump();
        return;
      }
    }
  }

  #serveJwks(req: IncomingMessage, res: ServerResponse): void {
    const publicSet = { keys: this.published.map((k) => k.publicJwk) };
    switch (this.fault) {
      case "none":
        json(res, publicSet);
        return;
      case "down":
        req.socket.destroy();
        return;
      case "slow": {
        const timer = setTimeout(() => json(res, publicSet), this.slowMs);
        res.on("close", () => clearTimeout(timer));
        return;
      }
      case "html":
        res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><h1>Welcome to nginx</h1>");
        return;
      case "empty-object":
        json(res, {});
        return;
      case "private-keys":
        json(res, { keys: this.published.map((k) => k.privateJwk) });
        return;
      case "redirect":
        res.writeHead(302, { location: `${this.origin}/jwks-moved` }).end();
        return;
      case "not-found":
        res.writeHead(404).end();
        return;
      case "endless": {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"keys":[');
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        this.endlessBytesSent = 0;
        const pump = () => {
          while (this.endlessBytesSent < 64 * 1024 * 1024 && !res.destroyed) {
            this.endlessBytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", pump);
          }
          if (!res.destroyed) res.end("]}");
        };
        pump();
        return;
      }
    }
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export async function startTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const keys = options.keys ?? [await generateTestKey()];
  let issuer: TestIssuer | undefined;
  const server = createServer((req, res) => issuer?.handle(req, res));
  const origin = await listen(server);
  issuer = new TestIssuer(server, origin, keys, options);
  return issuer;
}

/** A server that only records what reaches it: for proving that nothing does. */
export interface Listener {
  url: string;
  requests: string[];
  close(): Promise<void>;
}

export async function startListener(): Promise<Listener> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    res.writeHead(200, { "content-type": "application/json" }).end('{"keys":[]}');
  });
  const url = await listen(server);
  return { url, requests, close: () => closeServer(server) };
}

/** An http URL on which nothing listens (connection refused). */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await closeServer(server);
  return url;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
