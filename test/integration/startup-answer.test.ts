/**
 * While the server starts — it listens first, then reads auth.yaml and waits up to `jwks.timeout` for
 * the issuers' keys — every request, /healthz included, gets 503 with Retry-After and, as every answer
 * of the server, an X-Request-Id (README). The issuer here never answers its JWKS, so startup waits.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { project } from "../../generated/project.js";
import { startServer } from "../../src/server.js";
import { startTestIssuer, type TestIssuer } from "../helpers/test-issuer.js";
import { authYaml } from "./auth/support.js";

let issuer: TestIssuer;
let dir: string;
beforeAll(async () => {
  issuer = await startTestIssuer({ fault: "slow", slowMs: 60_000 });
  dir = await mkdtemp(join(tmpdir(), "toolgate-starting-"));
});
afterAll(async () => {
  await issuer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A port free a moment ago: startServer must listen on a port the test knows before it resolves. */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

it("answers 503 with Retry-After and an X-Request-Id until it is ready", async () => {
  const authFile = join(dir, "auth.yaml");
  await writeFile(
    authFile,
    authYaml({
      mode: "oauth2",
      authorizationServers: [{ type: "oidc", issuer: issuer.issuer, jwksUri: issuer.jwksUri }],
      jwks: { timeout: 3000 },
    }),
  );
  const port = await freePort();
  const starting = startServer({
    project,
    env: { DATA_DIR: join(dir, "data") },
    server: { port, host: "127.0.0.1" },
    authFile,
    logger: pino({ level: "silent" }),
  });
  try {
    let res: Response | undefined;
    for (let i = 0; i < 200 && res === undefined; i++) {
      res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (res === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(res?.status).toBe(503);
    expect(res?.headers.get("retry-after")).toBe("1");
    expect(res?.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await res?.text()).toBe("");
  } finally {
    await (await starting).close();
  }
  expect(issuer.jwksFetches).toBeGreaterThan(0);
}, 20_000);
