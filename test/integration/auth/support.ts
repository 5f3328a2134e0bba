/**
 * Shared pieces of the auth acceptance tests: a toolgate server started with a throw-away data
 * folder (and optionally another auth file), real tokens from its development authorization server
 * over HTTP, forged tokens signed with keys the test owns, a WWW-Authenticate parser, and the
 * assertions that say "the call reached the handler" whether the handler is a stub or real.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, expect } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { project } from "../../../generated/project.js";
import { type RunningServer, startServer } from "../../../src/server.js";
import { fetchAuthorizationServerMetadata, runOAuthFlow } from "../../helpers/oauth-flow.js";
import { legacy, modern, rpc } from "../../helpers/server.js";
import { generateTestKey, nowSec, signJwt, type TestKey } from "../../helpers/test-issuer.js";

/** 32 characters with the default `tgk_` prefix, so it also works as `Authorization: Bearer tgk_…`. */
export const API_KEY = "tgk_acceptance0123456789abcdefgh";
export const WRONG_API_KEY = "tgk_acceptanceWRONGWRONGWRONGWRO";

/**
 * The shipped handlers read their folders from `process.env` (DOCS_DIR, MEMORY_DB, CODEBASE_ROOT),
 * not from the env given to startServer(): point them at a temporary folder for this test file, so
 * that calls reaching a real handler never write into the repository's data/.
 */
export function useTemporaryToolFolders(): void {
  const names = ["DOCS_DIR", "MEMORY_DB", "CODEBASE_ROOT"] as const;
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "toolgate-auth-tools-"));
    await writeFile(join(dir, "README.md"), "toolgate acceptance fixture\n");
    process.env.DOCS_DIR = join(dir, "docs");
    process.env.MEMORY_DB = join(dir, "memory.sqlite");
    process.env.CODEBASE_ROOT = dir;
  });
  afterAll(async () => {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });
}

export interface AuthTestServer extends RunningServer {
  mcpUrl: URL;
  /** The absolute PRM URL every challenge must name (RFC 9728 §3.1 path-inserted form of `resource`). */
  prmUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Contents of an auth.yaml to use instead of the repository's. */
  authYaml?: string;
}

/** Starts toolgate in-process on 127.0.0.1:0 with a fresh DATA_DIR and a silent logger. */
export async function startAuthServer(options: StartOptions = {}): Promise<AuthTestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "toolgate-auth-it-"));
  let authFile: string | undefined;
  if (options.authYaml !== undefined) {
    authFile = join(dataDir, "auth.yaml");
    await writeFile(authFile, options.authYaml);
  }
  const running = await startServer({
    project,
    env: { AUTH_MODE: "optional", DATA_DIR: dataDir, ...options.env },
    server: { port: 0, host: "127.0.0.1" },
    ...(authFile ? { authFile } : {}),
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
  });
  const resource = new URL(running.auth.resource);
  // Only a slash right after the host is dropped (RFC 9728 §3.1); a path keeps its trailing slash,
  // and a query stays after the path (RFC 9728 §3: "the path and/or query components").
  const path = resource.pathname === "/" ? "" : resource.pathname;
  return Object.assign(running, {
    mcpUrl: new URL(`${running.url}/mcp`),
    prmUrl: `${resource.origin}/.well-known/oauth-protected-resource${path}${resource.search}`,
    dataDir,
    async stop() {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

/** A real access token from the server's development authorization server (DCR + code + PKCE over HTTP). */
export async function devToken(server: AuthTestServer, scope: string, login = "matrix-user"): Promise<string> {
  const { accessToken } = await runOAuthFlow({ issuer: server.url, scope, resource: server.auth.resource, login });
  return accessToken;
}

let forgeKey: Promise<TestKey> | undefined;
const ownKey = (): Promise<TestKey> => {
  forgeKey ??= generateTestKey("RS256");
  return forgeKey;
};

/**
 * A token that looks exactly like one of the development server's — same `iss`, `aud`, `typ`, even
 * the same `kid` as its current key — but signed with a key the test owns: the signature is wrong.
 */
export async function forgedToken(server: AuthTestServer, claims: Record<string, unknown> = {}): Promise<string> {
  const key = await ownKey();
  const as = await fetchAuthorizationServerMetadata(server.url);
  const jwks = (await (await fetch(as.jwks_uri as string)).json()) as { keys: { kid: string }[] };
  const kid = jwks.keys[0]?.kid;
  const now = nowSec();
  return signJwt(
    key,
    {
      iss: server.url,
      sub: "forger",
      aud: server.auth.resource,
      client_id: "forged-client",
      scope: "search.read docs.write",
      iat: now,
      exp: now + 300,
      jti: crypto.randomUUID(),
      ...claims,
    },
    { kid, typ: "at+jwt" },
  );
}

export type Era = "2026-07-28" | "2025-11-25";
export const ERAS: readonly Era[] = ["2026-07-28", "2025-11-25"];

export const ARGS: Record<string, Record<string, unknown>> = {
  "codebase.search": { query: "toolgate", limit: 1 },
  "docs.create": { title: `acceptance ${Date.now()}`, body: "# written by the auth acceptance tests", overwrite: true },
};

/** A request in one era: 2026-07-28 with envelope and Mcp-* headers, or plain 2025-11-25. */
export function legacyOrModern(era: Era, method: string, params: Record<string, unknown> = {}, id = 1) {
  return (era === "2026-07-28" ? modern : legacy)(method, params, id);
}

/** A tools/call in one era; `meta` is merged into `params._meta` (after the 2026 envelope). */
export function toolCall(era: Era, name: string, meta?: Record<string, unknown>, id = 7) {
  const params: Record<string, unknown> = { name, arguments: ARGS[name] ?? {} };
  if (meta) params._meta = meta;
  return legacyOrModern(era, "tools/call", params, id);
}

export async function call(
  server: AuthTestServer,
  era: Era,
  tool: string,
  headers: Record<string, string> = {},
  meta?: Record<string, unknown>,
) {
  const built = toolCall(era, tool, meta);
  return rpc(server.mcpUrl, built.message, { ...built.headers, ...headers });
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses one challenge (`Scheme k="v", k2=token, …`, RFC 9110 §11.2 auth-param syntax, quoted-pair
 * unescaped). Throws on anything it cannot read, so a sloppy header fails the test that reads it.
 */
export function parseChallenge(header: string): Challenge {
  const m = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/s.exec(header.trim());
  if (!m) throw new Error(`unreadable challenge: ${header}`);
  const params: Record<string, string> = {};
  let rest = (m[2] ?? "").trim();
  while (rest.length > 0) {
    const p = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)[ \t]*=[ \t]*/.exec(rest);
    if (!p) throw new Error(`unreadable auth-param in: ${header}`);
    const name = (p[1] as string).toLowerCase();
    rest = rest.slice(p[0].length);
    let value: string;
    if (rest.startsWith('"')) {
      let i = 1;
      value = "";
      for (; i < rest.length && rest[i] !== '"'; i++) {
        if (rest[i] === "\\") i++;
        value += rest[i];
      }
      if (rest[i] !== '"') throw new Error(`unterminated quoted-string in: ${header}`);
      rest = rest.slice(i + 1);
    } else {
      const t = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(rest);
      if (!t) throw new Error(`bad token value in: ${header}`);
      value = t[0];
      rest = rest.slice(value.length);
    }
    if (name in params) throw new Error(`repeated auth-param ${name} in: ${header}`);
    params[name] = value;
    rest = rest.replace(/^[ \t]*,[ \t]*/, "");
    if (rest.length > 0 && /^[ \t]*$/.test(rest)) rest = "";
  }
  return { scheme: m[1] as string, params };
}

export const scopeSet = (value: string | undefined) => new Set((value ?? "").split(" ").filter(Boolean));

/** The result of a tools/call that got past authorization: whatever the handler made of it. */
export function expectReachedHandler(res: { status: number; headers: Headers; body: any }, tool: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.headers.get("www-authenticate")).toBeNull();
  const result = res.body?.result;
  expect(result, JSON.stringify(res.body)).toBeTypeOf("object");
  expect(result._meta?.["mcp/www_authenticate"]).toBeUndefined();
  const text: string = result.content?.find((c: { type: string }) => c.type === "text")?.text ?? "";
  // A stub answers "not implemented: <tool>"; a real handler answers anything but a refusal.
  if (result.isError) {
    expect(text).not.toMatch(/^Unauthorized|^Unknown tool|^Invalid arguments/);
    if (text.startsWith("not implemented")) expect(text).toBe(`not implemented: ${tool}`);
  }
}

/**
 * Sends a request with node:http, which sends an array value as repeated header lines (fetch would
 * join them with a comma): how to put two Authorization headers on the wire.
 */
export function rawRequest(
  url: URL,
  options: { method?: string; path?: string; headers: Record<string, string | string[]>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    if (options.body !== undefined) headers["content-length"] = String(Buffer.byteLength(options.body));
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? "POST",
        path: options.path ?? url.pathname,
        headers,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** An auth.yaml placeholder, `${NAME}` or `${NAME:-default}`, substituted by the server from its env. */
export const placeholder = (expression: string): string => `\${${expression}}`;

/**
 * An auth.yaml for `startServer({ authFile })`: the repository's scope catalogue, the given settings,
 * and `${VAR}` placeholders kept as they are (the server substitutes them from its env).
 */
export function authYaml(settings: Record<string, unknown>): string {
  const shipped = parseYaml(readFileSync(new URL("../../../auth.yaml", import.meta.url), "utf8")) as {
    scopes: Record<string, string>;
  };
  return stringifyYaml({ scopes: shipped.scopes, ...settings });
}
