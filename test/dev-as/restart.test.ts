import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterEach, expect, it } from "vitest";
import { loadOrCreateSigningKeys } from "../../src/dev-as/signing-keys.js";
import { runOAuthFlow } from "../helpers/oauth-flow.js";
import { type RunningDevServer, startDevServer, temporaryDataDir } from "./dev-server.js";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

it("keeps its signing key in dataDir, so tokens survive a restart", async () => {
  const dataDir = await temporaryDataDir();
  cleanup.push(dataDir.remove);
  let server: RunningDevServer | undefined = await startDevServer({ dataDir: dataDir.path });
  cleanup.push(() => server?.close() ?? Promise.resolve());

  const { accessToken } = await runOAuthFlow({ issuer: server.issuer, scope: "docs.write", resource: server.resource });
  const keyFile = await stat(join(dataDir.path, "dev-as", "jwks.json"));
  // Windows has no file modes (the folder's ACL decides); the restart below is checked there too.
  if (process.platform !== "win32") expect(keyFile.mode & 0o777).toBe(0o600);

  // Restart where it was: same port (so the same issuer), same data folder, fresh provider.
  const { port, issuer, resource } = server;
  await server.close();
  server = await startDevServer({ dataDir: dataDir.path, port });

  const jwks = createRemoteJWKSet(new URL(server.devAs.jwksUri));
  const { payload } = await jwtVerify(accessToken, jwks, { issuer, audience: resource, algorithms: ["RS256"] });
  expect(payload.scope).toBe("docs.write");
});

it("two servers starting at once on a fresh data folder end up with the one key on disk", async () => {
  const dataDir = await temporaryDataDir();
  cleanup.push(dataDir.remove);
  const file = join(dataDir.path, "dev-as", "jwks.json");
  const results = await Promise.all(Array.from({ length: 4 }, () => loadOrCreateSigningKeys(file)));
  const onDisk = JSON.parse(await readFile(file, "utf8")) as { keys: { kid: string }[] };
  for (const { jwks } of results) expect(jwks.keys[0]?.kid).toBe(onDisk.keys[0]?.kid);
  expect(results.filter((r) => r.created)).toHaveLength(1);
  expect((await readdir(join(dataDir.path, "dev-as"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
});

it("a key file that is empty, cut short or not a private key set is refused naming the file (never replaced)", async () => {
  const dataDir = await temporaryDataDir();
  cleanup.push(dataDir.remove);
  const file = join(dataDir.path, "dev-as", "jwks.json");
  await mkdir(dirname(file), { recursive: true });
  const refusal = `${file} is not a private JWKS; delete it to let the development server create a new key`;
  for (const [text, message] of [
    ["", `${refusal} (it is not JSON)`],
    ['{"keys":[{"kty":"RSA","n":', `${refusal} (it is not JSON)`],
    ["null", refusal],
    ['{"keys":[null]}', refusal],
    ['{"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]}', refusal],
  ] as const) {
    await writeFile(file, text);
    await expect(loadOrCreateSigningKeys(file), JSON.stringify(text)).rejects.toThrow(message);
    expect(await readFile(file, "utf8")).toBe(text);
  }
});
