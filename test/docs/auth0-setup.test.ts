/**
 * scripts/auth0-setup.ts against recorded request shapes, never a live tenant: a 127.0.0.1 server
 * stands in for the Auth0 Management API (`--base-url`), records what the script sends, and the
 * test compares it with test/fixtures/docs/auth0-setup/*.requests.json.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { loadAuthConfig } from "../../src/config/auth-config.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURES = join(ROOT, "test/fixtures/docs/auth0-setup");
const TSX = join(ROOT, "node_modules/.bin/tsx");
const TOKEN = "test-management-token";
const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), "utf8"));

interface Recorded {
  method: string;
  url: string;
  authorization: string | null;
  contentType: string | null;
  body: unknown;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the script with only the given variables of ours set (none inherited from the shell). */
function setup(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(AUTH0_|MCP_|REQUIRED_SCOPES|AUTH_MODE$|AUTH_CONFIG_FILE$)/.test(k)),
  );
  return new Promise((resolve) => {
    execFile(
      TSX,
      ["scripts/auth0-setup.ts", ...args],
      { cwd: ROOT, env: { ...inherited, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A stand-in Management API: `answer` decides each response; every request is recorded. */
async function managementApi(
  answer: (req: IncomingMessage, body: unknown) => { status: number; json?: unknown; text?: string },
): Promise<{ url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? JSON.parse(text) : null;
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization ?? null,
        contentType: req.headers["content-type"] ?? null,
        body,
      });
      const { status, json, text: plain } = answer(req, body);
      if (plain !== undefined) res.writeHead(status, { "content-type": "text/html" }).end(plain);
      else
        res
          .writeHead(status, { "content-type": "application/json" })
          .end(json === undefined ? "" : JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const FIXTURE_ENV = {
  MCP_RESOURCE_URL: "https://notes.example.com/mcp",
  REQUIRED_SCOPES: "mcp.access",
};
const fixtureFiles = ["--auth", join(FIXTURES, "auth.yaml"), "--tools", join(FIXTURES, "tools.yaml")];
const applyArgs = (baseUrl: string) => [
  ...fixtureFiles,
  "--apply",
  "--domain",
  "notes-tenant.eu.auth0.com",
  "--token",
  TOKEN,
  "--base-url",
  baseUrl,
];

/** The JSON printed after `POST /api/v2/resource-servers` in a dry run. */
function printedBody(stdout: string): unknown {
  const lines = stdout.split("\n");
  const at = lines.indexOf("POST /api/v2/resource-servers");
  expect(at, stdout).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf("}", at);
  return JSON.parse(lines.slice(at + 1, end + 1).join("\n"));
}

describe("npm run auth0:setup", () => {
  it("dry run: prints the API it would create, the tool permissions and the dashboard steps, and sends nothing", async () => {
    const api = await managementApi(() => ({ status: 500 }));
    const run = await setup([...fixtureFiles, "--base-url", api.url], FIXTURE_ENV);
    expect(run.code, run.stderr).toBe(0);
    expect(api.requests).toEqual([]);
    expect(printedBody(run.stdout)).toEqual(fixture("create.requests.json")[1].body);
    expect(run.stdout).toContain("identifier   https://notes.example.com/mcp   (from MCP_RESOURCE_URL)");
    expect(run.stdout).toMatch(/notes\.search\s+notes\.read {2}\(also callable signed out\)/);
    expect(run.stdout).toMatch(/ping\s+\(none\) {2}\(callable signed out\)/);
    for (const step of [
      '{"flags":{"enable_dynamic_client_registration":true}}',
      '{"resource_parameter_profile":"compatibility"}',
      '{"default_audience":"https://notes.example.com/mcp"}',
      "Promote Connection to Domain Level",
      '{"is_domain_connection":true}',
      "MCP_RESOURCE_URL=https://notes.example.com/mcp",
    ])
      expect(run.stdout).toContain(step);
  });

  it("creates the API when none has the identifier", async () => {
    const api = await managementApi((req) =>
      req.method === "GET" ? { status: 200, json: [] } : { status: 201, json: { id: "rs_new", identifier: "x" } },
    );
    const run = await setup(applyArgs(api.url), FIXTURE_ENV);
    expect(run.code, run.stderr).toBe(0);
    expect(api.requests).toEqual(fixture("create.requests.json"));
    expect(run.stdout).toContain("created the API notes-server (id rs_new) with 4 permissions");
  });

  it("updates the API with that identifier, keeping permissions added by hand", async () => {
    const existing = fixture("update.existing.json");
    const api = await managementApi((req) =>
      req.method === "GET" ? { status: 200, json: existing } : { status: 200, json: existing[0] },
    );
    const run = await setup([...applyArgs(api.url)], { MCP_RESOURCE_URL: FIXTURE_ENV.MCP_RESOURCE_URL });
    expect(run.code, run.stderr).toBe(0);
    expect(api.requests).toEqual(fixture("update.requests.json"));
    expect(run.stdout).toContain("kept permissions not in auth.yaml: legacy.export (--prune removes them)");
  });

  it("--prune replaces the permissions; --offline-access allows refresh tokens; a paginated answer is read too", async () => {
    const existing = fixture("update.existing.json");
    const api = await managementApi((req) =>
      req.method === "GET"
        ? { status: 200, json: { start: 0, limit: 50, total: 2, resource_servers: existing } }
        : { status: 200, json: existing[0] },
    );
    const run = await setup([...applyArgs(api.url), "--prune", "--offline-access"], {
      MCP_RESOURCE_URL: FIXTURE_ENV.MCP_RESOURCE_URL,
    });
    expect(run.code, run.stderr).toBe(0);
    const [, expectedPatch] = fixture("update.requests.json");
    expect(api.requests[1]).toEqual({
      ...expectedPatch,
      body: {
        ...expectedPatch.body,
        scopes: expectedPatch.body.scopes.filter((s: { value: string }) => s.value !== "legacy.export"),
        allow_offline_access: true,
      },
    });
  });

  it("stops with one line when the token lacks Management API scopes", async () => {
    const api = await managementApi(() => ({
      status: 403,
      json: {
        statusCode: 403,
        error: "Forbidden",
        message: "Insufficient scope, expected any of: read:resource_servers",
      },
    }));
    const run = await setup(applyArgs(api.url), FIXTURE_ENV);
    expect(run.code).toBe(1);
    expect(api.requests.map((r) => r.method)).toEqual(["GET"]);
    expect(run.stderr).toBe(
      "auth0:setup: GET /api/v2/resource-servers?identifiers=https%3A%2F%2Fnotes.example.com%2Fmcp answered 403: the Management API token needs read:resource_servers, create:resource_servers and update:resource_servers (Insufficient scope, expected any of: read:resource_servers)\n",
    );
  });

  describe("never prints the Management API token", () => {
    const SECRET = "eyJSECRET-management-token";
    const withoutToken = (args: string[]) => {
      const at = args.indexOf("--token");
      return [...args.slice(0, at), ...args.slice(at + 2)];
    };

    it("refuses a token with a line break before sending it, without showing it", async () => {
      const api = await managementApi(() => ({ status: 200, json: [] }));
      for (const [args, env, source] of [
        [
          withoutToken(applyArgs(api.url)),
          { AUTH0_MANAGEMENT_TOKEN: `${SECRET}\nsecond-line` },
          "AUTH0_MANAGEMENT_TOKEN",
        ],
        [[...withoutToken(applyArgs(api.url)), "--token", `${SECRET} \r\n`], {}, "--token"],
      ] as const) {
        const run = await setup([...args], { ...FIXTURE_ENV, ...env });
        expect(run.code).toBe(1);
        expect(run.stderr).toBe(
          `auth0:setup: the Management API token (${source}) contains a line break, a space or another character a token cannot have: copy it again (it is not shown here)\n`,
        );
        expect(run.stdout + run.stderr).not.toContain("SECRET");
        expect(run.stdout + run.stderr).not.toContain("second-line");
      }
      expect(api.requests).toEqual([]);
    });

    it("reports a request that cannot be sent by its error code, never by the message quoting the header", async () => {
      const preload = pathToFileURL(join(FIXTURES, "fetch-quotes-authorization.mjs")).href;
      const run = await setup(withoutToken(applyArgs("http://127.0.0.1:1")), {
        ...FIXTURE_ENV,
        AUTH0_MANAGEMENT_TOKEN: SECRET,
        NODE_OPTIONS: `--import=${preload}`,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe("auth0:setup: cannot reach http://127.0.0.1:1 (the request could not be sent)\n");
      expect(run.stdout + run.stderr).not.toContain("SECRET");

      // A real failure keeps its code.
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const refused = await setup(withoutToken(applyArgs(`http://127.0.0.1:${port}`)), {
        ...FIXTURE_ENV,
        AUTH0_MANAGEMENT_TOKEN: SECRET,
      });
      expect(refused.stderr).toBe(`auth0:setup: cannot reach http://127.0.0.1:${port} (ECONNREFUSED)\n`);
    });

    it("redacts the token when an error answer quotes it", async () => {
      const api = await managementApi((req) => ({
        status: 401,
        json: { statusCode: 401, message: `Bad token ${req.headers.authorization}` },
      }));
      const run = await setup(withoutToken(applyArgs(api.url)), { ...FIXTURE_ENV, AUTH0_MANAGEMENT_TOKEN: SECRET });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        "answered 401: the Management API token is invalid or expired (Bad token Bearer [token])",
      );
      expect(run.stdout + run.stderr).not.toContain("SECRET");
    });

    it("takes the token out of an answer that is not JSON before cutting it short", async () => {
      // The token starts before the 200th character and ends after it: a cut first left its start.
      const api = await managementApi((req) => ({
        status: 400,
        text: `<html>${"x".repeat(180)}${req.headers.authorization}</html>`,
      }));
      const run = await setup(withoutToken(applyArgs(api.url)), { ...FIXTURE_ENV, AUTH0_MANAGEMENT_TOKEN: SECRET });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("Bearer [token]");
      expect(run.stdout + run.stderr).not.toContain("eyJSEC");
    });

    it("the usage text recommends AUTH0_MANAGEMENT_TOKEN over --token", async () => {
      const run = await setup(["--help"]);
      expect(run.stdout).toContain("AUTH0_MANAGEMENT_TOKEN=… npm run auth0:setup -- --apply --domain TENANT");
      expect(run.stdout).toMatch(/--token .*still accepted, but other\s+users see it in `ps`/);
      expect(run.stdout).not.toContain("--token TOKEN");
    });
  });

  it("reads an empty AUTH_CONFIG_FILE as unset, and names a file it cannot read in one line", async () => {
    const resource = ["--resource", "https://mcp.example.com/mcp"];
    const empty = await setup(resource, { AUTH_CONFIG_FILE: "" });
    expect(empty.stderr).toBe("");
    expect(empty.stdout).toContain("auth.yaml and tools.yaml imply");
    const missing = await setup([...resource, "--auth", "nope.yaml"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("auth0:setup: cannot read nope.yaml (ENOENT): pass --auth FILE\n");
  });

  it("refuses what toolgate itself would refuse: no resource, a domain with protocol, a differing audience", async () => {
    const noResource = await setup(fixtureFiles);
    expect(noResource.code).toBe(1);
    expect(noResource.stderr).toMatch(/^auth0:setup: no resource URL: pass --resource .* or set MCP_RESOURCE_URL/);

    const domain = await setup([...fixtureFiles, "--domain", "https://notes-tenant.eu.auth0.com/"], FIXTURE_ENV);
    expect(domain.code).toBe(1);
    expect(domain.stderr).toContain("the domain is a host name without protocol or path");

    const audience = await setup(fixtureFiles, { ...FIXTURE_ENV, AUTH0_AUDIENCE: "https://api.example.com" });
    expect(audience.code).toBe(0);
    expect(audience.stdout).toContain("toolgate will refuse to start (AUTH005)");
  });

  it("derives the shipped auth.yaml's catalogue, as the server loads it", async () => {
    const run = await setup(["--resource", "https://mcp.example.com/mcp"]);
    expect(run.code, run.stderr).toBe(0);
    const { scopes } = loadAuthConfig(join(ROOT, "auth.yaml"), {
      env: {},
      listen: { host: "127.0.0.1", port: 3000 },
      production: false,
    });
    expect(printedBody(run.stdout)).toEqual({
      name: "toolgate",
      identifier: "https://mcp.example.com/mcp",
      signing_alg: "RS256",
      scopes: Object.entries(scopes).map(([value, description]) => ({ value, description })),
      enforce_policies: true,
      token_dialect: "access_token_authz",
    });
  });
});
