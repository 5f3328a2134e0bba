/**
 * Issue 11, item 1: the official MCP clients discover, sign in, step up and call tools against
 * toolgate with its development authorization server, with no shortcut. Every HTTP request below is
 * made by the SDK client (its transport, its `auth()`), except the browser part — posting the
 * development login and consent forms — which test/e2e/helpers/dev-login.ts does as a browser would,
 * and the PKCE/iss/state checks the SDK leaves to its host.
 *
 * Clients: (a) v2 pinned to 2026-07-28 with a Client ID Metadata Document, (b) v2 on 2025-11-25 with
 * dynamic registration, (c) v1 1.32 with dynamic registration; each in `optional` and `oauth2` mode.
 */
import { InsufficientScopeError, IssuerMismatchError, RegistrationRejectedError } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeDevLogin } from "./helpers/dev-login.js";
import { type ClientKind, isUnauthorizedError, type McpConnection, openConnection } from "./helpers/mcp-clients.js";
import { TestOAuthProvider } from "./helpers/oauth-provider.js";
import { completeSignIn, expectCodeExchange, expectSignInStarted, type ServerFacts } from "./helpers/oauth-steps.js";
import { Recorder } from "./helpers/recorder.js";
import { bearerChallenge, expectDocumentWritten, expectReachedHandler, scopeSet } from "./helpers/results.js";
import { CIMD_CLIENT_ID, CIMD_DOCUMENT, type E2eServer, HEADLESS_REDIRECT, startE2eServer } from "./helpers/servers.js";

/** The shipped tools these tests use; the list may grow. */
const TOOLS = expect.arrayContaining(["codebase.search", "docs.create"]);
const SEARCH = { query: "toolgate", limit: 3 };
const doc = (title: string) => ({ title, body: `# ${title}\n\nWritten by an end-to-end test.\n` });

/** Most flows register `grant_types: ["authorization_code"]` explicitly, as a host may; one test uses the SDK default. */
const GRANT_TYPES = ["authorization_code"];

interface ClientCase {
  kind: ClientKind;
  label: string;
  registration: "dcr" | "cimd";
}

const CLIENTS: ClientCase[] = [
  { kind: "v2-2026", label: "(a) v2 client pinned to 2026-07-28, Client ID Metadata Document", registration: "cimd" },
  { kind: "v2-2025", label: "(b) v2 client on 2025-11-25, dynamic client registration", registration: "dcr" },
  { kind: "v1", label: "(c) v1 client 1.32, dynamic client registration", registration: "dcr" },
];

const servers: Partial<Record<"optional" | "oauth2", E2eServer>> = {};
const facts: Partial<Record<"optional" | "oauth2", ServerFacts>> = {};

async function serverFacts(server: E2eServer): Promise<ServerFacts> {
  const metadata = await (await fetch(`${server.origin}/.well-known/oauth-authorization-server`)).json();
  return {
    issuer: server.origin,
    resource: server.mcpUrl.href,
    authorizationEndpoint: metadata.authorization_endpoint,
    tokenEndpoint: metadata.token_endpoint,
    registrationEndpoint: metadata.registration_endpoint,
  };
}

beforeAll(async () => {
  const clientMetadataDocuments = { [CIMD_CLIENT_ID]: CIMD_DOCUMENT };
  const [optional, oauth2] = await Promise.all([
    startE2eServer({ mode: "optional", clientMetadataDocuments }),
    // REQUIRED_SCOPES makes the 401 on connect name a scope; without it a client asks for every
    // scope in scopes_supported at first sign-in and never needs to step up (see the last describe).
    startE2eServer({ mode: "oauth2", clientMetadataDocuments, env: { REQUIRED_SCOPES: "search.read" } }),
  ]);
  servers.optional = optional;
  servers.oauth2 = oauth2;
  facts.optional = await serverFacts(optional);
  facts.oauth2 = await serverFacts(oauth2);
});

afterAll(async () => {
  await Promise.all([servers.optional?.close(), servers.oauth2?.close()]);
});

function newProvider(c: ClientCase, name: string): TestOAuthProvider {
  return new TestOAuthProvider({
    redirectUrl: HEADLESS_REDIRECT,
    clientName: `toolgate e2e ${c.kind} ${name}`,
    grantTypes: GRANT_TYPES,
    ...(c.registration === "cimd" ? { clientMetadataUrl: CIMD_CLIENT_ID } : {}),
  });
}

/** The client_id the authorization server knows this client by. */
const clientIdOf = (provider: TestOAuthProvider) => provider.clientInformation()?.client_id ?? "";

async function expectUnauthorized(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the client asks the user to sign in").toBeDefined();
  expect(isUnauthorizedError(error), `UnauthorizedError, got ${String(error)}`).toBe(true);
}

/**
 * The client spoke the revision it should: every MCP-Protocol-Version header it sent names it, and on
 * 2026-07-28 every POST carries the Mcp-Method header of the stateless revision.
 */
function expectProtocol(recorder: Recorder, c: ClientCase, from: number) {
  const requests = recorder.mcp(recorder.since(from));
  const versions = new Set(requests.map((e) => e.request.protocolVersion).filter(Boolean));
  expect([...versions]).toEqual([c.kind === "v2-2026" ? "2026-07-28" : "2025-11-25"]);
  const posts = requests.filter((e) => e.method === "POST");
  if (c.kind === "v2-2026") expect(posts.every((e) => e.request.mcpMethod)).toBe(true);
  else expect(posts.some((e) => e.request.mcpMethod)).toBe(false);
}

/**
 * Step-up: a session holding search.read calls docs.create, gets 403 insufficient_scope naming
 * docs.write plus what it holds, re-authorizes with the union (a fresh authorization request, not a
 * refresh), and the retried call reaches the handler.
 */
async function stepUp(
  c: ClientCase,
  f: ServerFacts,
  connection: McpConnection,
  provider: TestOAuthProvider,
  login: string,
  recorder: Recorder,
) {
  if (c.kind !== "v1") {
    // With onInsufficientScope: 'throw' the v2 client surfaces the challenge instead of re-authorizing.
    const throwing = openConnection(c.kind, {
      url: new URL(f.resource),
      provider,
      recorder: new Recorder(),
      issuer: f.issuer,
      onInsufficientScope: "throw",
    });
    try {
      await throwing.connect();
      const error = await throwing.callTool("docs.create", doc("refused")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InsufficientScopeError);
      expect(scopeSet((error as InsufficientScopeError).requiredScope)).toEqual(["docs.write", "search.read"]);
      expect((error as InsufficientScopeError).resourceMetadataUrl?.href).toMatch(/oauth-protected-resource/);
    } finally {
      await throwing.close();
    }
  }

  const redirects = provider.authorizationUrls.length;
  const mark = recorder.mark();
  await expectUnauthorized(connection.callTool("docs.create", doc(`step-up ${c.kind} ${login}`)));
  expect(provider.authorizationUrls.length).toBe(redirects + 1);
  const challenge = expectSignInStarted(recorder.since(mark), provider, f, {
    status: 403,
    scope: ["docs.write", "search.read"],
    registration: "none",
    clientId: clientIdOf(provider),
  });
  expect(scopeSet(challenge.scope)).toEqual(["docs.write", "search.read"]);

  const exchangeMark = recorder.mark();
  const { authorizationUrl } = await completeSignIn(connection, provider, login, f);
  expectCodeExchange(recorder.since(exchangeMark), provider, authorizationUrl, f, {
    login,
    scope: ["docs.write", "search.read"],
    clientId: clientIdOf(provider),
  });
  // Retried on the same connection, as a host does after the user comes back (stateless server).
  expectDocumentWritten(await connection.callTool("docs.create", doc(`stepped up ${login}`)));
  expectReachedHandler(await connection.callTool("codebase.search", SEARCH));
}

for (const c of CLIENTS) {
  describe(c.label, () => {
    describe("optional mode", () => {
      const recorder = new Recorder();
      const login = `${c.kind}-optional-user`;
      let provider: TestOAuthProvider;
      let connection: McpConnection;
      let f: ServerFacts;

      beforeAll(() => {
        f = facts.optional as ServerFacts;
        provider = newProvider(c, "optional");
        connection = openConnection(c.kind, { url: servers.optional!.mcpUrl, provider, recorder, issuer: f.issuer });
      });
      afterAll(() => connection?.close());

      it("works anonymously: lists the tools and codebase.search reaches the handler, without any sign-in", async () => {
        await connection.connect();
        expect(await connection.listTools()).toEqual(TOOLS);
        expectReachedHandler(await connection.callTool("codebase.search", SEARCH));
        expect(provider.authorizationUrls).toEqual([]);
        // Only MCP requests, all answered (a 2025-era client's GET for a server stream gets 405: stateless).
        expect(recorder.exchanges.every((e) => e.url.pathname === "/mcp")).toBe(true);
        expect(recorder.exchanges.filter((e) => e.method === "POST").every((e) => e.status < 300)).toBe(true);
        expect(recorder.exchanges.some((e) => e.request.authorization)).toBe(false);
        expectProtocol(recorder, c, 0);
      });

      it("docs.create triggers sign-in: 401 → PRM from the challenge → AS metadata → registration → PKCE S256 redirect", async () => {
        const mark = recorder.mark();
        await expectUnauthorized(connection.callTool("docs.create", doc(`anonymous ${c.kind}`)));
        const challenge = expectSignInStarted(recorder.since(mark), provider, f, {
          status: 401,
          scope: ["docs.write"],
          registration: c.registration,
          ...(c.registration === "cimd" ? { clientId: CIMD_CLIENT_ID } : {}),
        });
        expect(challenge.scope).toBe("docs.write");
        if (c.registration === "dcr") expect(clientIdOf(provider)).not.toBe(CIMD_CLIENT_ID);
      });

      if (c.kind !== "v1") {
        it("refuses a callback whose RFC 9207 iss is not the authorization server, or that has none", async () => {
          const url = provider.pendingAuthorization;
          // The browser part, then the callback with a forged and with a missing iss: the SDK rejects
          // both before redeeming the code (no token request), so the genuine callback still works.
          const { callback } = await completeDevLogin(url, { redirectUri: provider.redirectUrl, login });
          const mark = recorder.mark();
          const forged = new URL(callback);
          forged.searchParams.set("iss", "https://attacker.example");
          await expect(connection.finishAuth(forged)).rejects.toBeInstanceOf(IssuerMismatchError);
          const missing = new URL(callback);
          missing.searchParams.delete("iss");
          await expect(connection.finishAuth(missing)).rejects.toBeInstanceOf(IssuerMismatchError);
          expect(recorder.since(mark).filter((e) => e.url.href === f.tokenEndpoint)).toEqual([]);
          // The genuine callback still works: the code was never sent anywhere.
          await connection.finishAuth(callback);
          expect(provider.tokens()?.access_token).toBeTruthy();
          provider.invalidateCredentials("tokens");
          // Start over, so the next test signs in through the client's own 401 handling again.
          await expectUnauthorized(connection.callTool("docs.create", doc(`again ${c.kind}`)));
        });
      }

      it("login + consent, iss checked, code exchanged with the PKCE verifier; then docs.create and a signed-in search reach the handler", async () => {
        const mark = recorder.mark();
        const { authorizationUrl } = await completeSignIn(connection, provider, login, f);
        expectCodeExchange(recorder.since(mark), provider, authorizationUrl, f, {
          login,
          scope: ["docs.write"],
          clientId: c.registration === "cimd" ? CIMD_CLIENT_ID : clientIdOf(provider),
        });
        const callsFrom = recorder.mark();
        expectDocumentWritten(await connection.callTool("docs.create", doc(`signed in ${c.kind}`)));
        expectReachedHandler(await connection.callTool("codebase.search", SEARCH));
        const calls = recorder.mcp(recorder.since(callsFrom));
        expect(calls.map((e) => e.status)).toEqual(calls.map(() => 200));
        expect(calls.every((e) => e.request.authorization === `Bearer ${provider.tokens()?.access_token}`)).toBe(true);
        expectProtocol(recorder, c, 0);
      });

      it("steps up: a session signed in with search.read gets 403 insufficient_scope for docs.create, re-authorizes with the wider scope and succeeds", async () => {
        // A second user whose host signs in for search.read only (a "Sign in" button: the SDK's auth()).
        const stepRecorder = new Recorder();
        const stepProvider = newProvider(c, "optional step-up");
        const stepLogin = `${c.kind}-optional-stepper`;
        const session = openConnection(c.kind, {
          url: servers.optional!.mcpUrl,
          provider: stepProvider,
          recorder: stepRecorder,
          issuer: f.issuer,
        });
        try {
          expect(await session.authorize("search.read")).toBe("REDIRECT");
          expect(scopeSet(stepProvider.pendingAuthorization.searchParams.get("scope") ?? "")).toEqual(["search.read"]);
          await completeSignIn(session, stepProvider, stepLogin, f);
          expect(stepProvider.tokens()?.scope).toBe("search.read");
          await session.connect();
          expectReachedHandler(await session.callTool("codebase.search", SEARCH));
          await stepUp(c, f, session, stepProvider, stepLogin, stepRecorder);
          expectProtocol(stepRecorder, c, 0);
        } finally {
          await session.close();
        }
      });
    });

    describe("oauth2 mode", () => {
      const recorder = new Recorder();
      const login = `${c.kind}-oauth2-user`;
      let provider: TestOAuthProvider;
      let connection: McpConnection;
      let f: ServerFacts;

      beforeAll(() => {
        f = facts.oauth2 as ServerFacts;
        provider = newProvider(c, "oauth2");
        connection = openConnection(c.kind, { url: servers.oauth2!.mcpUrl, provider, recorder, issuer: f.issuer });
      });
      afterAll(() => connection?.close());

      it("is refused on connect with a 401 and starts sign-in: PRM from the challenge → AS metadata → registration → PKCE S256 redirect", async () => {
        await expectUnauthorized(connection.connect());
        const first = recorder.mcp()[0];
        expect(first?.status).toBe(401);
        expect(first?.request.authorization).toBeUndefined();
        const challenge = expectSignInStarted(recorder.exchanges, provider, f, {
          status: 401,
          scope: ["search.read"],
          registration: c.registration,
          ...(c.registration === "cimd" ? { clientId: CIMD_CLIENT_ID } : {}),
        });
        expect(challenge.scope).toBe("search.read");
      });

      it("login + consent, iss checked, code exchanged; a new connection lists the tools and codebase.search reaches the handler", async () => {
        const mark = recorder.mark();
        const { authorizationUrl } = await completeSignIn(connection, provider, login, f);
        expectCodeExchange(recorder.since(mark), provider, authorizationUrl, f, {
          login,
          scope: ["search.read"],
          clientId: c.registration === "cimd" ? CIMD_CLIENT_ID : clientIdOf(provider),
        });
        const from = recorder.mark();
        await connection.connect();
        expect(await connection.listTools()).toEqual(TOOLS);
        expectReachedHandler(await connection.callTool("codebase.search", SEARCH));
        const posts = recorder.mcp(recorder.since(from)).filter((e) => e.method === "POST");
        expect(posts.every((e) => e.status < 300)).toBe(true);
        expectProtocol(recorder, c, from);
      });

      it("steps up: docs.create gets 403 insufficient_scope, the client re-authorizes with the wider scope and succeeds", async () => {
        await stepUp(c, f, connection, provider, login, recorder);
        expectProtocol(recorder, c, 0);
      });
    });
  });
}

/**
 * What users run by default. This records current behaviour, which follows the spec's scope selection
 * (a 401 without `scope` → the client asks for PRM scopes_supported): change it if the server starts
 * naming scopes in the challenge to a connect.
 */
describe("oauth2 mode with the shipped auth.yaml (no REQUIRED_SCOPES)", () => {
  let server: E2eServer;
  let f: ServerFacts;
  beforeAll(async () => {
    server = await startE2eServer({ mode: "oauth2" });
    f = await serverFacts(server);
  });
  afterAll(() => server?.close());

  it("the 401 on connect names no scope, so a spec client asks for every scope in scopes_supported and never needs step-up", async () => {
    const recorder = new Recorder();
    const provider = new TestOAuthProvider({
      redirectUrl: HEADLESS_REDIRECT,
      clientName: "defaults",
      grantTypes: GRANT_TYPES,
    });
    const connection = openConnection("v2-2025", { url: server.mcpUrl, provider, recorder, issuer: f.issuer });
    try {
      await expectUnauthorized(connection.connect());
      const challenge = bearerChallenge(recorder.mcp()[0]?.wwwAuthenticate);
      expect(challenge.scope).toBeUndefined();
      const prm = await (await fetch(challenge.resource_metadata ?? "")).json();
      expectSignInStarted(recorder.exchanges, provider, f, {
        status: 401,
        scope: prm.scopes_supported,
        registration: "dcr",
      });
      await completeSignIn(connection, provider, "defaults-user", f);
      await connection.connect();
      expectDocumentWritten(await connection.callTool("docs.create", doc("defaults")));
      expect(recorder.exchanges.some((e) => e.status === 403)).toBe(false);
    } finally {
      await connection.close();
    }
  });
});

describe("dynamic registration with the v2 SDK's default client metadata", () => {
  // A v2 client that does not set grant_types registers with the SDK default
  // ["authorization_code", "refresh_token"] (SEP-2207). The development authorization server used to
  // answer 400 invalid_client_metadata (oidc-provider allows refresh_token only when it may issue
  // refresh tokens); it now issues them to clients that registered for them.
  it("registers and starts the redirect when grant_types is left to the SDK", async () => {
    const provider = new TestOAuthProvider({ redirectUrl: HEADLESS_REDIRECT, clientName: "sdk defaults" });
    const connection = openConnection("v2-2025", {
      url: servers.optional!.mcpUrl,
      provider,
      recorder: new Recorder(),
      issuer: servers.optional!.origin,
    });
    try {
      await connection.connect();
      const error = await connection.callTool("docs.create", doc("sdk defaults")).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(RegistrationRejectedError);
      expect(isUnauthorizedError(error)).toBe(true);
      expect(provider.authorizationUrls).toHaveLength(1);
    } finally {
      await connection.close();
    }
  });
});

/**
 * docs/claude.md, "Step-up": the v1 SDK (1.32) answers insufficient_scope by refreshing when it holds
 * a refresh token — the refreshed token keeps its scopes — instead of asking for the wider ones, and
 * gives up. toolgate's challenge is the same as for every client (403 naming the union); this test
 * pins the SDK's behaviour so the guide can be changed when an SDK release fixes it (then it fails).
 */
describe("v1 client holding a refresh token: step-up (an SDK limitation, documented)", () => {
  it("refreshes instead of asking for the wider scope and gives up with a 403; toolgate's 403 names the union", async () => {
    const f = facts.optional as ServerFacts;
    const c = CLIENTS.find((k) => k.kind === "v1") as ClientCase;
    const recorder = new Recorder();
    const provider = new TestOAuthProvider({
      redirectUrl: HEADLESS_REDIRECT,
      clientName: "toolgate e2e v1 refresh step-up",
      grantTypes: ["authorization_code", "refresh_token"],
    });
    const session = openConnection(c.kind, { url: servers.optional!.mcpUrl, provider, recorder, issuer: f.issuer });
    try {
      expect(await session.authorize("search.read")).toBe("REDIRECT");
      await completeSignIn(session, provider, "v1-refresh-stepper", f);
      expect(provider.tokens()?.refresh_token).toBeTruthy();
      await session.connect();
      const mark = recorder.mark();
      const error = await session.callTool("docs.create", doc("v1 refresh step-up")).catch((e: unknown) => e);
      expect(String(error)).toMatch(/403 after trying upscoping/);
      const since = recorder.since(mark);
      const refused = since.filter((e) => e.url.pathname === "/mcp" && e.status === 403);
      expect(refused.length).toBeGreaterThan(0);
      expect(scopeSet(bearerChallenge(refused[0]?.wwwAuthenticate).scope ?? "")).toEqual(["docs.write", "search.read"]);
      const grants = since
        .filter((e) => e.url.pathname === "/token")
        .map((e) => new URLSearchParams(e.body).get("grant_type"));
      expect(grants).toEqual(["refresh_token"]);
      expect(provider.authorizationUrls.length).toBe(1);
    } finally {
      await session.close();
    }
  }, 60_000);
});
