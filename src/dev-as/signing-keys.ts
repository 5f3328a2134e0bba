import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";

/** The one algorithm the development server signs with (access tokens and ID tokens alike). */
export const SIGNING_ALG = "RS256";

export interface PrivateJwks {
  keys: JWK[];
}

/** The members of a public JWK (RFC 7517/7518): what the development server publishes at /jwks. */
const PUBLIC_MEMBERS = ["kty", "kid", "use", "alg", "n", "e", "crv", "x", "y"] as const;

/** The public half of a key set: what a verifier needs, nothing that signs. */
export function publicKeySet(jwks: PrivateJwks): { keys: JWK[] } {
  return {
    keys: jwks.keys.map((key) => {
      const out: JWK = {};
      for (const member of PUBLIC_MEMBERS) if (key[member] !== undefined) out[member] = key[member];
      return out;
    }),
  };
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
  // Written to a temporary file, then linked into place: a crash never leaves a half-written key
  // file, and link() fails when the file exists — two servers starting at once on a fresh data
  // folder end up with one key (the first one linked), not each signing with its own while only the
  // last renamed is on disk.
  const temporary = `${file}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  try {
    await link(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const winner = await readJwks(file);
    if (!winner) throw error;
    return { jwks: winner, created: false };
  } finally {
    await unlink(temporary).catch(() => {});
  }
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
  const notPrivate = `${file} is not a private JWKS; delete it to let the development server create a new key`;
  let parsed: Partial<PrivateJwks> | null;
  try {
    parsed = JSON.parse(text) as Partial<PrivateJwks> | null;
  } catch {
    // Empty or cut short (a disk that filled up, an editor): JSON's message alone named no file.
    throw new Error(`${notPrivate} (it is not JSON)`);
  }
  if (!Array.isArray(parsed?.keys) || parsed.keys.length === 0 || parsed.keys.some((key) => !key?.d))
    throw new Error(notPrivate);
  return { keys: parsed.keys };
}

async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALG, use: "sig" };
}
