/**
 * The development authorization server's storage (src/dev-as/memory-adapter.ts): bounded per model,
 * so registrations — open to anyone — cannot push out other clients, sessions, grants or tokens.
 */
import type { AdapterPayload } from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_LIMIT, createDevStorage } from "../../src/dev-as/memory-adapter.js";
import {
  type AuthorizationServerMetadata,
  fetchAuthorizationServerMetadata,
  HEADLESS_REDIRECT_URI,
  registerClient,
  runOAuthFlow,
} from "../helpers/oauth-flow.js";
import { type RunningDevServer, startDevServer, temporaryDataDir } from "./dev-server.js";

describe("a flood of client registrations", () => {
  let dataDir: Awaited<ReturnType<typeof temporaryDataDir>>;
  let server: RunningDevServer;
  let as: AuthorizationServerMetadata;
  beforeAll(async () => {
    dataDir = await temporaryDataDir();
    server = await startDevServer({ dataDir: dataDir.path });
    as = await fetchAuthorizationServerMetadata(server.issuer);
  });
  afterAll(async () => {
    await server?.close();
    await dataDir?.remove();
  });

  it(`is refused past ${CLIENT_LIMIT} clients, and evicts no client, session, grant or refresh token`, async () => {
    const registered = await registerClient(as, {
      redirect_uris: [HEADLESS_REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    });
    const client = { client_id: registered.client_id };
    const { tokens } = await runOAuthFlow({ issuer: server.issuer, scope: "search.read", login: "victim", client });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    // Cross-origin, as any web page can (registration answers CORS for every origin).
    const statuses: number[] = [];
    let refusal: unknown;
    for (let sent = 0; sent < CLIENT_LIMIT; sent += 25) {
      const batch = await Promise.all(
        Array.from({ length: 25 }, () =>
          fetch(as.registration_endpoint as string, {
            method: "POST",
            headers: { "content-type": "application/json", origin: "https://evil.example" },
            body: JSON.stringify({ redirect_uris: ["https://evil.example/cb"], token_endpoint_auth_method: "none" }),
          }).then(async (response) => {
            const body: unknown = await response.json();
            if (response.status !== 201) refusal = body;
            return response.status;
          }),
        ),
      );
      statuses.push(...batch);
    }
    // The victim is one of the CLIENT_LIMIT: the flood gets the rest, then refusals.
    expect(statuses.filter((s) => s === 201)).toHaveLength(CLIENT_LIMIT - 1);
    expect(statuses.filter((s) => s === 503)).toHaveLength(1);
    expect(refusal).toMatchObject({
      error: "temporarily_unavailable",
      error_description: expect.stringContaining(`${CLIENT_LIMIT} registered clients`),
    });

    const refreshed = await fetch(as.token_endpoint, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: String(tokens.refresh_token),
        client_id: client.client_id,
      }),
    });
    expect(refreshed.status).toBe(200);
    const again = await runOAuthFlow({ issuer: server.issuer, scope: "search.read", login: "victim", client });
    expect(again.accessToken).toEqual(expect.any(String));
  }, 30_000);
});

describe("createDevStorage", () => {
  const full = (model: string, limit: number, maxBytes: number) => new Error(`${model} full at ${limit}/${maxBytes}`);
  const payload = (extra: Record<string, unknown> = {}) => ({ ...extra }) as AdapterPayload;

  it("bounds each model on its own: a flood of one kind pushes out only that kind, oldest first", async () => {
    const storage = createDevStorage({ full, modelLimit: 3 });
    const sessions = storage.adapter("Session");
    const interactions = storage.adapter("Interaction");
    await sessions.upsert("s1", payload({ uid: "u1" }), 3600);
    for (let i = 0; i < 10; i++) await interactions.upsert(`i${i}`, payload(), 3600);
    expect(await sessions.find("s1")).toBeDefined();
    expect(await sessions.findByUid("u1")).toBeDefined();
    expect(storage.size("Interaction")).toBe(3);
    expect(await interactions.find("i6")).toBeUndefined();
    expect(await interactions.find("i7")).toBeDefined();
    // Least recently used goes first: i7 was just read, so i8 is the oldest now.
    await interactions.upsert("i10", payload(), 3600);
    expect(await interactions.find("i8")).toBeUndefined();
    expect(await interactions.find("i7")).toBeDefined();
  });

  it("bounds each model's payload bytes too: large entries (a 50 KB `state` in each) push out the oldest", async () => {
    const storage = createDevStorage({ full, modelBytes: 200_000 });
    const requests = storage.adapter("PushedAuthorizationRequest");
    const big = (i: number) => payload({ state: "s".repeat(50_000), i });
    for (let i = 0; i < 20; i++) await requests.upsert(`r${i}`, big(i), 60);
    expect(storage.bytes("PushedAuthorizationRequest")).toBeLessThanOrEqual(200_000);
    expect(storage.size("PushedAuthorizationRequest")).toBe(3);
    expect(await requests.find("r19")).toBeDefined();
    expect(await requests.find("r16")).toBeUndefined();
    // replacing an entry counts its new size, not both
    await requests.upsert("r19", payload({ small: true }), 60);
    expect(storage.size("PushedAuthorizationRequest")).toBe(3);
    // an entry larger than the whole budget is refused
    await expect(requests.upsert("huge", payload({ state: "s".repeat(250_000) }), 60)).rejects.toThrow(
      "PushedAuthorizationRequest full at",
    );
    storage.close();
  });

  it("refuses a client past the byte budget instead of evicting one", async () => {
    const storage = createDevStorage({ full, clientBytes: 120_000 });
    const clients = storage.adapter("Client");
    await clients.upsert("a", payload({ client_id: "a", logo: "l".repeat(50_000) }));
    await clients.upsert("b", payload({ client_id: "b", logo: "l".repeat(50_000) }));
    await expect(clients.upsert("c", payload({ client_id: "c", logo: "l".repeat(50_000) }))).rejects.toThrow(
      "Client full at",
    );
    expect(await clients.find("a")).toBeDefined();
    expect(await clients.find("b")).toBeDefined();
    storage.close();
  });

  it("drops expired entries before live ones", async () => {
    const storage = createDevStorage({ full, modelLimit: 2 });
    const codes = storage.adapter("AuthorizationCode");
    await codes.upsert("live", payload(), 3600);
    await codes.upsert("expired", payload(), 0);
    await codes.upsert("new", payload(), 3600);
    expect(await codes.find("live")).toBeDefined();
    expect(await codes.find("new")).toBeDefined();
    expect(await codes.find("expired")).toBeUndefined();
  });

  it("never evicts clients: a new one past the limit is refused, updates and the rest still work", async () => {
    const storage = createDevStorage({ full, clientLimit: 2 });
    const clients = storage.adapter("Client");
    await clients.upsert("a", payload({ client_id: "a" }));
    await clients.upsert("b", payload({ client_id: "b" }));
    await expect(clients.upsert("c", payload({ client_id: "c" }))).rejects.toThrow("Client full at 2/");
    await clients.upsert("a", payload({ client_id: "a", client_name: "renamed" }));
    expect(await clients.find("a")).toMatchObject({ client_name: "renamed" });
    expect(await clients.find("b")).toBeDefined();
    await clients.destroy("b");
    await clients.upsert("c", payload({ client_id: "c" }));
    expect(storage.size("Client")).toBe(2);
  });

  it("revokes every token of a grant, and consumes", async () => {
    const storage = createDevStorage({ full });
    const refresh = storage.adapter("RefreshToken");
    const codes = storage.adapter("AuthorizationCode");
    await refresh.upsert("r1", payload({ grantId: "g1" }), 3600);
    await codes.upsert("c1", payload({ grantId: "g1" }), 60);
    await refresh.upsert("r2", payload({ grantId: "g2" }), 3600);
    await codes.consume("c1");
    expect((await codes.find("c1"))?.consumed).toEqual(expect.any(Number));
    await refresh.revokeByGrantId("g1");
    expect(await refresh.find("r1")).toBeUndefined();
    expect(await codes.find("c1")).toBeUndefined();
    expect(await refresh.find("r2")).toBeDefined();
  });
});
