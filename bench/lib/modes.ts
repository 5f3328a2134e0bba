/**
 * The throughput modes: which server, which protocol era, how it is configured and which
 * credentials each request carries. Keys are what results/latest.json uses; a key with `@era` is the
 * 2025-11-25 variant of a mode.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDocument, stringify } from "yaml";
import { fetchProtectedResourceMetadata } from "../../src/dev-as/headless-login.js";
import { runOAuthFlow } from "../../test/helpers/oauth-flow.js";
import { startTestIssuer, type TestIssuer } from "../../test/helpers/test-issuer.js";
import { REPO } from "./proc.js";
import { BASELINE_TOOL, TOOLGATE_PROJECT, TOOLGATE_SEARCH_TOOL, TOOLGATE_TOOL } from "./project.js";
import { type Era, LEGACY, MODERN } from "./requests.js";
import type { ServerKind } from "./servers.js";

export interface ModeContext {
  /** This run's scratch folder. */
  dir: string;
  /** CODEBASE_ROOT for the shipped search tool. */
  codebase: string;
  /** auth.yaml with `tokenCache: {enabled: false}`. */
  noCacheAuthFile: string;
  apiKey: string;
  logLevel: string;
  /** An OIDC issuer in this process (test/helpers/test-issuer.ts): the production shape of oauth2. */
  issuer: TestIssuer;
  /** auth.yaml trusting `issuer` only (no development authorization server). */
  oidcAuthFile: string;
  close(): Promise<void>;
}

export interface Mode {
  key: string;
  /** One line for the table and the docs. */
  title: string;
  /** (a), (b), … as the issue names them. */
  tag: string;
  server: ServerKind;
  era: Era;
  tool: { name: string; arguments: Record<string, unknown>; describe?: string };
  env?(ctx: ModeContext): Record<string, string>;
  /** Headers every request carries (a token, a key), obtained once the server is up. */
  credentials?(base: string, ctx: ModeContext): Promise<Record<string, string>>;
  /**
   * Informational, not part of a target or a required ratio: measured in the first round only, so
   * the target modes get more rounds in the six minutes (every round when named in `--only`).
   */
  once?: boolean;
  /** Not in a full run (six minutes): measured only when named in `--only`. */
  onDemand?: boolean;
}

/** Settings every toolgate process gets: its own data folder, the tiny codebase, the log level. */
const toolgateEnv = (ctx: ModeContext, extra: Record<string, string>): Record<string, string> => ({
  DATA_DIR: join(ctx.dir, "data"),
  CODEBASE_ROOT: ctx.codebase,
  LOG_LEVEL: ctx.logLevel,
  // The project serving TOOLGATE_TOOL (the echo of examples/bench-echo); "" serves the shipped tools.
  BENCH_TOOLGATE_PROJECT: TOOLGATE_PROJECT,
  ...extra,
});

/** A token from the development authorization server the oauth2 server mounts on its own port. */
async function devToken(base: string): Promise<Record<string, string>> {
  const prm = await fetchProtectedResourceMetadata(base);
  const issuer = prm.authorization_servers[0];
  if (!issuer) throw new Error("the protected resource metadata names no authorization server");
  const { accessToken } = await runOAuthFlow({
    issuer,
    scope: TOOLGATE_TOOL.scope,
    resource: prm.resource,
    login: "bench",
  });
  return { authorization: `Bearer ${accessToken}` };
}

const baseline = (era: Era): Mode => ({
  key: era === MODERN ? "baseline" : `baseline@${era}`,
  title: "SDK v2 by hand: McpServer + zod registerTool, createMcpHandler, express",
  tag: "(a)",
  server: "baseline-v2",
  era,
  tool: BASELINE_TOOL,
});

const anonymous = (era: Era): Mode => ({
  key: era === MODERN ? "anonymous" : `anonymous@${era}`,
  title: "toolgate, AUTH_MODE=anonymous",
  tag: "(b)",
  server: "toolgate",
  era,
  tool: TOOLGATE_TOOL,
  env: (ctx) => toolgateEnv(ctx, { AUTH_MODE: "anonymous" }),
});

const oauth2 = (era: Era): Mode => ({
  key: era === MODERN ? "oauth2" : `oauth2@${era}`,
  title: "toolgate, AUTH_MODE=oauth2, RS256 token from the development AS, token cache on",
  tag: "(c)",
  server: "toolgate",
  era,
  tool: TOOLGATE_TOOL,
  env: (ctx) => toolgateEnv(ctx, { AUTH_MODE: "oauth2" }),
  credentials: (base) => devToken(base),
});

/** (c′): oauth2 as in production — an external issuer, no development AS in the process. */
const oauth2Oidc = (era: Era): Mode => ({
  key: era === MODERN ? "oauth2-oidc" : `oauth2-oidc@${era}`,
  title: "toolgate, oauth2 trusting an external OIDC issuer (RS256, token cache on): no development AS in the process",
  tag: "(c′)",
  server: "toolgate",
  era,
  tool: TOOLGATE_TOOL,
  env: (ctx) => toolgateEnv(ctx, { AUTH_MODE: "oauth2", AUTH_CONFIG_FILE: ctx.oidcAuthFile }),
  credentials: async (base, ctx) => ({
    authorization: `Bearer ${ctx.issuer.token({ aud: `${base}/mcp`, scope: TOOLGATE_TOOL.scope, client_id: "bench" })}`,
  }),
  once: true,
});

/** Every mode, in the order of a round: the SDK v2 baseline first (its capacity sets the 50 % load). */
export const MODES: Mode[] = [
  baseline(MODERN),
  anonymous(MODERN),
  oauth2(MODERN),
  oauth2Oidc(MODERN),
  {
    key: "anonymous+token-bytes",
    title:
      "toolgate anonymous, each request carrying a bearer token the mode never reads: what the token's bytes cost without any auth work",
    tag: "(b″)",
    server: "toolgate",
    era: MODERN,
    tool: TOOLGATE_TOOL,
    env: (ctx) => toolgateEnv(ctx, { AUTH_MODE: "anonymous" }),
    credentials: async (base, ctx) => ({
      authorization: `Bearer ${ctx.issuer.token({ aud: `${base}/mcp`, scope: TOOLGATE_TOOL.scope, client_id: "bench" })}`,
    }),
    // Its one round read within ±10 % of (b) either way (the sequential spread): part 1b measures
    // (c)/(b) better, and the six minutes are better spent there.
    onDemand: true,
  },
  {
    key: "oauth2-nocache",
    title: "toolgate, oauth2 as (c) with tokenCache.enabled: false (every request verifies RS256)",
    tag: "(d)",
    server: "toolgate",
    era: MODERN,
    tool: TOOLGATE_TOOL,
    env: (ctx) => toolgateEnv(ctx, { AUTH_MODE: "oauth2", AUTH_CONFIG_FILE: ctx.noCacheAuthFile }),
    credentials: (base) => devToken(base),
    once: true,
  },
  {
    key: "api-key",
    title: "toolgate, AUTH_MODE=api-key, X-API-Key (SHA-256, constant-time compare)",
    tag: "(e)",
    server: "toolgate",
    era: MODERN,
    tool: TOOLGATE_TOOL,
    env: (ctx) => toolgateEnv(ctx, { AUTH_MODE: "api-key", MCP_API_KEY: ctx.apiKey }),
    credentials: async (_base, ctx) => ({ "x-api-key": ctx.apiKey }),
    once: true,
  },
  {
    key: "tmcp",
    title: "tmcp 1.20 + @tmcp/transport-http + zod adapter (2026-07-28; answers SSE)",
    tag: "(t)",
    server: "tmcp",
    era: MODERN,
    tool: BASELINE_TOOL,
  },
  {
    key: "baseline-v1",
    title: "SDK v1 by hand: low-level Server, stateless StreamableHTTPServerTransport, JSON responses",
    tag: "(a′)",
    server: "baseline-v1",
    era: LEGACY,
    tool: BASELINE_TOOL,
    once: true,
  },
  baseline(LEGACY),
  anonymous(LEGACY),
  oauth2(LEGACY),
  { ...oauth2Oidc(LEGACY), onDemand: true },
  {
    key: "anonymous+search",
    title: "toolgate anonymous, a real codebase.search over a one-file folder (informational)",
    tag: "(b+)",
    server: "toolgate",
    era: MODERN,
    tool: TOOLGATE_SEARCH_TOOL,
    env: (ctx) => toolgateEnv(ctx, { AUTH_MODE: "anonymous", BENCH_TOOLGATE_PROJECT: "" }),
    once: true,
  },
];

/**
 * An auth.yaml in mode oauth2 trusting one OIDC issuer, with the repository's scope catalogue
 * (the tools name those scopes) and optional further settings (e.g. `jwks`).
 */
export async function writeOidcAuthFile(file: string, issuer: TestIssuer, extra: Record<string, unknown> = {}) {
  const repoAuth = parseDocument(await readFile(join(REPO, "auth.yaml"), "utf8")).toJS() as {
    scopes: Record<string, string>;
  };
  await writeFile(
    file,
    stringify({
      mode: "oauth2",
      scopes: repoAuth.scopes,
      authorizationServers: [{ type: "oidc", issuer: issuer.issuer, jwksUri: issuer.jwksUri, algorithms: ["RS256"] }],
      ...extra,
    }),
  );
}

/** Writes what the modes need on disk (the no-cache and OIDC auth files) and starts the OIDC issuer. */
export async function prepareModeContext(dir: string, codebase: string, logLevel: string): Promise<ModeContext> {
  const noCacheAuthFile = join(dir, "auth-nocache.yaml");
  const auth = await readFile(join(REPO, "auth.yaml"), "utf8");
  if (/^tokenCache:/m.test(auth)) throw new Error("auth.yaml already sets tokenCache: update bench/lib/modes.ts");
  await writeFile(noCacheAuthFile, `${auth.trimEnd()}\n\ntokenCache:\n  enabled: false\n`);
  const issuer = await startTestIssuer();
  const oidcAuthFile = join(dir, "auth-oidc.yaml");
  await writeOidcAuthFile(oidcAuthFile, issuer);
  return {
    dir,
    codebase,
    noCacheAuthFile,
    apiKey: randomBytes(24).toString("base64url"),
    logLevel,
    issuer,
    oidcAuthFile,
    close: () => issuer.close(),
  };
}
