/**
 * Child process: jose `jwtVerify` in a tight loop for one algorithm (run pinned to one core).
 * The options are toolgate's (issuer, audience, algorithms, typ, required claims): the floor of
 * what one core can verify, whatever the HTTP stack around it costs.
 *   node --import tsx bench/children/jose-floor.ts <RS256|ES256> <seconds>
 */
import { generateKeyPair, jwtVerify, SignJWT } from "jose";

const alg = process.argv[2] ?? "RS256";
const seconds = Number(process.argv[3] ?? 2);
const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: false });
const issuer = "https://issuer.example.test";
const audience = "https://mcp.example.test/mcp";
const token = await new SignJWT({ scope: "search.read", client_id: "bench" })
  .setProtectedHeader({ alg, typ: "at+jwt", kid: "k1" })
  .setIssuer(issuer)
  .setAudience(audience)
  .setSubject("user-1")
  .setIssuedAt()
  .setExpirationTime("10m")
  .sign(privateKey);
const options = { issuer, audience, algorithms: [alg], typ: "at+jwt", requiredClaims: ["exp", "sub"] };

async function loop(ms: number): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await jwtVerify(token, publicKey, options);
    n += 50;
  }
  return n;
}

await loop(300); // warm up
const started = performance.now();
const n = await loop(seconds * 1000);
const elapsed = (performance.now() - started) / 1000;
console.log(JSON.stringify({ alg, ops: n, seconds: elapsed, opsPerSec: n / elapsed }));
