import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";

/** The one algorithm the development server signs with (access tokens and ID tokens alike). */
export const SIGNING_ALG = "RS256";

export interface PrivateJwks {
  keys: JWK[];
}

/**
 * The signing key set kept at `file` (created on first use, mode 0600), so tokens issued before a
 * restart still verify after it. A file that exists but cannot be read is an error, not a reason to
 * mint a new key silently: that would invalidate every token in circulation.
 */
export async function loadOrCreateSigningKeys(file: string): Promise<{ jwks: PrivateJwks; created: boolean }> {
  const existing = await readJwks(file);
  if (existing) return { jwks: existing, created: false };

  const jwks = { keys: [await generateSigningKey()] };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Write then rename, so a crash never leaves a half-written key file behind.
  const temporary = `${file}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, file);
  return { jwks, created: true };
}

async function readJwks(file: string): Promise<PrivateJwks | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<PrivateJwks>;
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0 || parsed.keys.some((key) => !key.d)) {
    throw new Error(`${file} is not a private JWKS; delete it to let the development server create a new key`);
  }
  return { keys: parsed.keys };
}

async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALG, use: "sig" };
}
