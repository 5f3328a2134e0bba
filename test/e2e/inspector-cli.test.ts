/**
 * Issue 11, item 3: the MCP Inspector CLI (`@modelcontextprotocol/inspector` 2.12, the devDependency)
 * against a running toolgate in oauth2 mode, with a bearer token from `npm run token`. The Inspector
 * runs as a child process — the binary `npx @modelcontextprotocol/inspector` starts, spawned with
 * node directly to save npx's second of start-up per call — with its catalog, client config and
 * OAuth store in a throw-away HOME, and `--stored-auth-only` wherever a login could otherwise open a
 * browser.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/temp-project.js";
import { expectReachedHandler, type ToolResultLike } from "./helpers/results.js";
import { type RunResult, run } from "./helpers/run.js";
import { type E2eServer, startE2eServer } from "./helpers/servers.js";

/** The shipped tools these tests use; the list may grow. */
const TOOLS = expect.arrayContaining(["codebase.search", "docs.create"]);
const INSPECTOR_TIMEOUT_MS = 30_000;

let server: E2eServer;
let home: string;
let inspectorBin: string;
let token: string;

async function inspector(args: string[]): Promise<RunResult & { json: any }> {
  const result = await run(
    process.execPath,
    [inspectorBin, "--cli", server.mcpUrl.href, "--transport", "http", ...args],
    {
      cwd: home,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        MCP_CATALOG_PATH: join(home, "catalog.json"),
        MCP_CLIENT_CONFIG_PATH: join(home, "client.json"),
        NO_COLOR: "1",
      },
      timeoutMs: INSPECTOR_TIMEOUT_MS,
    },
  );
  expect(result.timedOut, `the Inspector finished within ${INSPECTOR_TIMEOUT_MS} ms`).toBe(false);
  // --format json: one JSON object per line, the result on stdout, an error envelope on stderr.
  const line = (result.stdout.trim() || result.stderr.trim()).split("\n")[0] ?? "";
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    json = undefined;
  }
  return { ...result, json };
}

const bearer = () => ["--header", `Authorization: Bearer ${token}`];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "toolgate-e2e-inspector-"));
  const pkg = JSON.parse(
    await readFile(join(REPO, "node_modules/@modelcontextprotocol/inspector/package.json"), "utf8"),
  );
  inspectorBin = join(REPO, "node_modules/@modelcontextprotocol/inspector", pkg.bin.inspector);
  server = await startE2eServer({ mode: "oauth2" });
  const minted = await run(
    "npm",
    [
      "run",
      "--silent",
      "token",
      "--",
      "--url",
      server.origin,
      "--scope",
      "search.read",
      "--client",
      "inspector",
      "--data-dir",
      server.dataDir,
    ],
    { cwd: REPO, env: process.env, timeoutMs: 60_000 },
  );
  expect(minted.code, minted.stderr).toBe(0);
  token = minted.stdout.trim();
}, 90_000);

afterAll(async () => {
  await server?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("MCP Inspector CLI with a token from npm run token", () => {
  it("npm run token printed a development access token for the server, scope search.read, login inspector", () => {
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: server.origin,
      aud: server.mcpUrl.href,
      sub: "inspector",
      scope: "search.read",
    });
  });

  it("tools/list with the bearer token lists every tool", async () => {
    const result = await inspector(["--method", "tools/list", "--format", "json", ...bearer()]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json.result.tools.map((t: { name: string }) => t.name)).toEqual(TOOLS);
  });

  for (const era of ["legacy", "modern"] as const) {
    it(`tools/call codebase.search with the bearer token reaches the handler (--protocol-era ${era})`, async () => {
      const result = await inspector([
        "--method",
        "tools/call",
        "--tool-name",
        "codebase.search",
        "--tool-arg",
        "query=toolgate",
        "--tool-arg",
        "limit=3",
        "--format",
        "json",
        "--protocol-era",
        era,
        ...bearer(),
      ]);
      // A handler error (isError) makes the CLI exit non-zero; what matters is that it was a tool result.
      expect(result.json?.result, `${result.stdout}\n${result.stderr}`).toBeDefined();
      expectReachedHandler(result.json.result as ToolResultLike);
      if (era === "modern") expect(result.json.result._meta?.["io.modelcontextprotocol/serverInfo"]).toBeDefined();
    });
  }

  it("without a token, or with a bad one, the Inspector is refused (auth_required, exit 3) and opens no login", async () => {
    const none = await inspector(["--method", "tools/list", "--format", "json", "--stored-auth-only"]);
    const bad = await inspector([
      "--method",
      "tools/list",
      "--format",
      "json",
      "--stored-auth-only",
      "--header",
      "Authorization: Bearer not.a.token",
    ]);
    for (const result of [none, bad]) {
      expect(result.code).toBe(3);
      expect(result.json?.error?.code).toBe("auth_required");
    }
    expect(none.json.error.message).toMatch(/sign in/i);
    expect(bad.json.error.message).toMatch(/invalid or expired/i);
  });

  it("docs.create with the search.read token is refused for insufficient scope, naming docs.write and search.read", async () => {
    const result = await inspector([
      "--method",
      "tools/call",
      "--tool-name",
      "docs.create",
      "--tool-arg",
      "title=Inspector",
      "--tool-arg",
      "body=Hello",
      "--format",
      "json",
      "--stored-auth-only",
      ...bearer(),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.json?.error?.message).toMatch(/insufficient scope/i);
    expect(result.json.error.message).toContain("docs.write search.read");
  });
});
