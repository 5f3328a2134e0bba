/**
 * Keys fixed in the configuration instead of fetched: a public key file (SPKI PEM, one JWK or a
 * JWKS) or an HS256 shared secret. Problems with them are configuration errors, thrown at startup.
 */
import { readFile } from "node:fs/promises";
import { type CryptoKey, createLocalJWKSet, importSPKI, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { JwtVerifierConfigError, TokenVerificationError } from "./errors.js";
import { hasPrivateKeyMaterial, type KeySource, keySelectionError } from "./key-source.js";

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
export const MIN_SHARED_SECRET_BYTES = 32;

export interface StaticKeys {
  source: KeySource;
  /** The configured algorithms this key can actually verify (a PEM key fits only some of them). */
  algorithms: string[];
}

const noWarmUp = async (): Promise<void> => {};

export function sharedSecretKeys(secret: string): StaticKeys {
  const key = new TextEncoder().encode(secret);
  if (key.byteLength < MIN_SHARED_SECRET_BYTES) {
    throw new JwtVerifierConfigError(
      `sharedSecret must be at least ${MIN_SHARED_SECRET_BYTES} bytes long (it is ${key.byteLength})`,
    );
  }
  return { source: { resolveKey: async () => key, warm: noWarmUp }, algorithms: ["HS256"] };
}

export async function publicKeyFileKeys(path: string, algorithms: readonly string[]): Promise<StaticKeys> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new JwtVerifierConfigError(`publicKeyFile ${path} cannot be read (${String(code ?? "error")})`);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN PUBLIC KEY-----")) return pemKeys(path, trimmed, algorithms);
  if (trimmed.startsWith("-----BEGIN")) {
    throw new JwtVerifierConfigError(
      `publicKeyFile ${path} must hold a public key ("BEGIN PUBLIC KEY"), a JWK or a JWKS — never a private key or certificate`,
    );
  }
  return jwksKeys(path, trimmed, algorithms);
}

/** A PEM key is bound to one algorithm at import, so it is imported once per configured algorithm it fits. */
async function pemKeys(path: string, pem: string, algorithms: readonly string[]): Promise<StaticKeys> {
  const byAlgorithm = new Map<string, CryptoKey>();
  for (const alg of algorithms) {
    try {
      byAlgorithm.set(alg, await importSPKI(pem, alg));
    } catch {
      // This key type does not fit this algorithm (an RSA key for ES256, say).
    }
  }
  if (byAlgorithm.size === 0) {
    throw new JwtVerifierConfigError(
      `publicKeyFile ${path} holds no key usable with the algorithms ${algorithms.join(", ")}`,
    );
  }
  const resolveKey: JWTVerifyGetKey = async (header) => {
    const key = byAlgorithm.get(header.alg);
    if (key === undefined) throw new TokenVerificationError("TOKEN_NO_MATCHING_KEY");
    return key;
  };
  return { source: { resolveKey, warm: noWarmUp }, algorithms: [...byAlgorithm.keys()] };
}

async function jwksKeys(path: string, text: string, algorithms: readonly string[]): Promise<StaticKeys> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new JwtVerifierConfigError(`publicKeyFile ${path} is neither a PEM public key nor JSON`);
  }
  return keySetKeys(`publicKeyFile ${path}`, parsed, algorithms);
}

/** Keys from a JWK or JWKS already read (`what` names it in errors): public keys only. */
export function keySetKeys(what: string, parsed: unknown, algorithms: readonly string[]): StaticKeys {
  const jwks = toKeySet(parsed);
  if (jwks === undefined || jwks.keys.length === 0) {
    throw new JwtVerifierConfigError(`${what} is not a JWK or a JWKS with at least one key`);
  }
  if (jwks.keys.some(hasPrivateKeyMaterial)) {
    throw new JwtVerifierConfigError(`${what} holds private key material; give the public key only`);
  }
  let set: JWTVerifyGetKey;
  try {
    set = createLocalJWKSet(jwks);
  } catch {
    throw new JwtVerifierConfigError(`${what} is not a valid JWKS`);
  }
  const resolveKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await set(header, token);
    } catch (err) {
      throw keySelectionError(err, false);
    }
  };
  return { source: { resolveKey, warm: noWarmUp }, algorithms: [...algorithms] };
}

function toKeySet(value: unknown): JSONWebKeySet | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const keys = Array.isArray(record.keys) ? record.keys : typeof record.kty === "string" ? [record] : undefined;
  if (keys === undefined || !keys.every((k) => typeof k === "object" && k !== null && !Array.isArray(k))) {
    return undefined;
  }
  return { keys } as JSONWebKeySet;
}
