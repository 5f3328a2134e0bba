/**
 * The guides stay true: every command of docs/auth0-chatgpt.md and docs/claude.md that can run here
 * is run against a toolgate server started in-process, and its output is compared with the output
 * the guide shows. The server's development authorization server stands in for Auth0: the guides'
 * public host and Auth0 tenant are replaced by the test server's address and issuer. `npm run
 * token` runs scripts/token.ts against the test server with a temporary data folder.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAuthConfig } from "../../src/config/auth-config.js";
import { ConfigError } from "../../src/config/diagnostics.js";
import type { RunningServer } from "../../src/server.js";
import { startTestServer } from "../helpers/server.js";
import {
  type GuideCheck,
  httpMismatches,
  jsonMismatches,
  mentionedVariables,
  type ParsedGuide,
  parseGuide,
  substitute,
} from "./guide-checks.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/**
 * The shipped tools read their settings from process.env (src/shipped/settings.ts), not from the
 * environment given to the server: point them at a temporary folder, so `docs.create` does not
 * write into the project's data/ folder.
 */
const TMP = mkdtempSync(join(tmpdir(), "toolgate-guides-"));
process.env.DATA_DIR = join(TMP, "tools");
process.env.CODEBASE_ROOT = join(ROOT, "docs");
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const GUIDES = ["docs/auth0-chatgpt.md", "docs/claude.md"].map((file) => parseGuide(join(ROOT, file)));

/** The guides' example hosts, and what stands in for them in the test. */
function substitutions(origin: string): [string, string][] {
  return [
    ["https://your-tenant.us.auth0.com/authorize", `${origin}/auth`],
    ['"https://your-tenant.us.auth0.com/"', `"${origin}"`],
    ["https://your-tenant.us.auth0.com", origin],
    ["https://mcp.example.com", origin],
    ["http://127.0.0.1:3000", origin],
  ];
}

/** Shell variables the guides use that are not server settings. */
const NOT_SERVER_SETTINGS: Record<string, string> = {
  TOKEN: "a shell variable of the examples",
  AUTH0_MANAGEMENT_TOKEN: "read by scripts/auth0-setup.ts",
};

/**
 * `npm run --silent token -- ARGS` runs scripts/token.ts against the test server with a temporary
 * data folder; any other npm command is refused, so a guide cannot run something unplanned.
 */
const PRELUDE = `set -eo pipefail
npm() {
  if [ "$1 $2 $3 $4" = "run --silent token --" ]; then
    shift 4
    "$TG_TSX" "$TG_ROOT/scripts/token.ts" --url "$TG_ORIGIN" --data-dir "$TG_DATA" "$@"
  else
    echo "the guide test does not run: npm $*" >&2
    return 97
  fi
}
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function bash(script: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      ["-c", PRELUDE + script],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 25_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function knownVariables(): { source: string; names: Set<string> } {
  const schemaFile = join(ROOT, "schema/environment.json");
  const names = new Set<string>();
  if (existsSync(schemaFile)) {
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) walk(item);
        return;
      }
      if (node === null || typeof node !== "object") return;
      for (const [key, value] of Object.entries(node)) {
        if (/^[A-Z][A-Z0-9_]*$/.test(key)) names.add(key);
        if (key === "name" && typeof value === "string" && /^[A-Z][A-Z0-9_]*$/.test(value)) names.add(value);
        walk(value);
      }
    };
    walk(JSON.parse(readFileSync(schemaFile, "utf8")));
    return { source: "schema/environment.json", names };
  }
  for (const line of readFileSync(join(ROOT, "README.md"), "utf8").split("\n")) {
    const cell = /^\|([^|]+)\|/.exec(line)?.[1] ?? "";
    for (const m of cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1] as string);
  }
  return { source: "README.md's configuration table", names };
}

describe.each(GUIDES.map((g) => [g.file.slice(ROOT.length), g] as const))("%s", (_, guide: ParsedGuide) => {
  let server: RunningServer;
  let dataDir: string;
  let origin: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(TMP, "server-"));
    server = await startTestServer({ AUTH_MODE: "optional", ...guide.env, DATA_DIR: dataDir });
    origin = server.url;
  });

  afterAll(async () => {
    await server?.close();
  });

  it("marks every shell command as checked or says why it cannot run here", () => {
    const unmarked = guide.fences.filter((f) => f.lang === "sh" && !f.marker).map((f) => `line ${f.line}`);
    expect(unmarked, "```sh blocks without <!-- check: … --> or <!-- no-check: … -->").toEqual([]);
    expect(guide.checks.length).toBeGreaterThan(0);
  });

  it("mentions only environment variables that exist", () => {
    const known = knownVariables();
    const script = readFileSync(join(ROOT, "scripts/auth0-setup.ts"), "utf8");
    const unknown = [...mentionedVariables(guide.text)].filter((name) => {
      if (name in NOT_SERVER_SETTINGS) return name === "AUTH0_MANAGEMENT_TOKEN" && !script.includes(name);
      return !known.names.has(name);
    });
    expect(unknown, `variables not in ${known.source}`).toEqual([]);
  });

  it.each(guide.checks.map((c) => [c.name, c] as const))("runs %s as the guide shows", async (_, check: GuideCheck) => {
    const pairs = substitutions(origin);
    const run = await bash(substitute(check.command, pairs), {
      TG_ROOT: ROOT,
      TG_ORIGIN: origin,
      TG_DATA: dataDir,
      TG_TSX: join(ROOT, "node_modules/.bin/tsx"),
    });
    expect(run.code, `line ${check.line}: ${run.stderr}`).toBe(0);
    if (!check.expected) return;
    const expected = substitute(check.expected.text, pairs);
    const problems =
      check.expected.lang === "http"
        ? httpMismatches(expected, run.stdout)
        : jsonMismatches(JSON.parse(expected), JSON.parse(run.stdout));
    expect(problems, `${guide.file}:${check.expected.line}\n${run.stdout}`).toEqual([]);
  });
});

describe("docs/auth0-chatgpt.md, beyond the commands", () => {
  const guide = GUIDES[0] as ParsedGuide;
  const loadProduction = (env: Record<string, string>) =>
    loadAuthConfig(join(ROOT, "auth.yaml"), { env, listen: { host: "127.0.0.1", port: 3000 }, production: true });

  it("lists auth.yaml's scope catalogue as the API permissions", () => {
    const start = guide.markers.get("scope-catalogue");
    expect(start).toBeDefined();
    const rows: [string, string][] = [];
    for (const line of guide.lines.slice(start)) {
      if (!line.startsWith("|")) break;
      const row = /^\| `([^`]+)` \| (.*) \|$/.exec(line);
      if (row) rows.push([row[1] as string, row[2] as string]);
    }
    const { scopes } = loadProduction({
      AUTH_MODE: "oauth2",
      AUTH0_DOMAIN: "your-tenant.us.auth0.com",
      MCP_RESOURCE_URL: "https://mcp.example.com/mcp",
    });
    expect(rows).toEqual(Object.entries(scopes));
  });

  it("quotes the startup errors as the server prints them", () => {
    // The settings the guide names for each error, and the positions in the shipped auth.yaml.
    const base = { AUTH_MODE: "oauth2", MCP_RESOURCE_URL: "https://mcp.example.com/mcp" };
    const scenarios: Record<string, Record<string, string>> = {
      AUTH002: { AUTH_MODE: "oauth2", AUTH0_DOMAIN: "your-tenant.us.auth0.com" },
      AUTH003: { ...base, AUTH0_DOMAIN: "https://your-tenant.us.auth0.com/" },
      AUTH005: { ...base, AUTH0_DOMAIN: "your-tenant.us.auth0.com", AUTH0_AUDIENCE: "https://api.example.com" },
      AUTH010: base,
    };
    const start = guide.markers.get("startup-errors");
    const block = guide.fences.find((f) => f.marker?.value === "startup-errors" && f.line > (start ?? 0));
    const quoted = (block?.text ?? "").split("\n").filter(Boolean);
    expect(quoted.map((l) => /error (AUTH\d{3}):/.exec(l)?.[1])).toEqual(Object.keys(scenarios));
    for (const line of quoted) {
      const [, file, position, code, message] = /^(\S+):(\d+:\d+): error (AUTH\d{3}): (.*)$/.exec(line) ?? [];
      let printed: string[] = [];
      try {
        loadProduction(scenarios[code as string] as Record<string, string>);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        printed = error.diagnostics
          .filter((d) => d.code === code)
          .map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
      }
      expect(printed.map((p) => p.replace(`${ROOT}`, ""))).toContain(`${file}:${position}: ${message}`);
    }
  });
});
