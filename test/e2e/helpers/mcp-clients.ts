/**
 * The official MCP clients behind one small interface, so one scenario runs against each:
 * - `v2-2026`: `@modelcontextprotocol/client` pinned to 2026-07-28 (`server/discover`, stateless);
 * - `v2-2025`: the same client with its default negotiation (2025-11-25, `initialize`);
 * - `v1`: `@modelcontextprotocol/sdk` 1.32 (2025-11-25), the client most hosts still run.
 * Each uses a Streamable HTTP transport with an `OAuthClientProvider`, as a host does.
 */
import {
  InsufficientScopeError,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  Client as V2Client,
  auth as v2Auth,
} from "@modelcontextprotocol/client";
import { UnauthorizedError as V1UnauthorizedError, auth as v1Auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1Transport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { TestOAuthProvider } from "./oauth-provider.js";
import type { Recorder } from "./recorder.js";
import type { ToolResultLike } from "./results.js";

export type ClientKind = "v2-2026" | "v2-2025" | "v1";

export const PROTOCOL_VERSION: Record<ClientKind, string> = {
  "v2-2026": "2026-07-28",
  "v2-2025": "2025-11-25",
  v1: "2025-11-25",
};

export interface McpConnection {
  readonly kind: ClientKind;
  /** A new transport and client, connected (`server/discover` or `initialize`). */
  connect(): Promise<void>;
  listTools(): Promise<string[]>;
  callTool(name: string, args: Record<string, unknown>): Promise<ToolResultLike>;
  /**
   * Hands the authorization callback to the latest transport. v2: the whole query, so the SDK checks
   * RFC 9207 `iss` itself. v1 (1.32) takes only the code and checks nothing: as a v1 host must, this
   * checks `iss` against the authorization server's issuer first.
   */
  finishAuth(callback: URL): Promise<void>;
  /** A host-initiated sign-in with a scope of the host's choosing (the SDK's `auth()`). */
  authorize(scope: string): Promise<string>;
  close(): Promise<void>;
}

export interface ConnectionOptions {
  url: URL;
  provider: TestOAuthProvider;
  recorder: Recorder;
  /** The authorization server's issuer, for the v1 `iss` check. */
  issuer: string;
  /** v2 only: `'throw'` makes a 403 surface as InsufficientScopeError instead of re-authorizing. */
  onInsufficientScope?: "reauthorize" | "throw";
}

interface Closeable {
  close(): Promise<void>;
}

export function openConnection(kind: ClientKind, options: ConnectionOptions): McpConnection {
  const { url, provider, recorder } = options;
  const opened: Closeable[] = [];
  const info = { name: `toolgate-e2e-${kind}`, version: "1.0.0" };

  if (kind === "v1") {
    let transport: V1Transport | undefined;
    let client: V1Client | undefined;
    const current = () => {
      if (!client) throw new Error("not connected");
      return client;
    };
    return {
      kind,
      async connect() {
        transport = new V1Transport(url, { authProvider: provider, fetch: recorder.fetch });
        client = new V1Client(info);
        opened.push(client);
        await client.connect(transport);
      },
      listTools: async () => (await current().listTools()).tools.map((t) => t.name),
      callTool: async (name, args) => (await current().callTool({ name, arguments: args })) as ToolResultLike,
      async finishAuth(callback) {
        const iss = callback.searchParams.get("iss");
        if (iss !== options.issuer) throw new Error(`authorization response iss ${iss} is not ${options.issuer}`);
        transport ??= new V1Transport(url, { authProvider: provider, fetch: recorder.fetch });
        await transport.finishAuth(callback.searchParams.get("code") ?? "");
      },
      authorize: (scope) => v1Auth(provider, { serverUrl: url, scope, fetchFn: recorder.fetch }),
      async close() {
        for (const c of opened.splice(0)) await c.close().catch(() => {});
      },
    };
  }

  let transport: StreamableHTTPClientTransport | undefined;
  let client: V2Client | undefined;
  const newTransport = () =>
    new StreamableHTTPClientTransport(url, {
      authProvider: provider,
      fetch: recorder.fetch,
      ...(options.onInsufficientScope ? { onInsufficientScope: options.onInsufficientScope } : {}),
    });
  const current = () => {
    if (!client) throw new Error("not connected");
    return client;
  };
  return {
    kind,
    async connect() {
      transport = newTransport();
      client = new V2Client(info, kind === "v2-2026" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {});
      opened.push(client);
      await client.connect(transport);
    },
    listTools: async () => (await current().listTools()).tools.map((t) => t.name),
    callTool: async (name, args) => (await current().callTool({ name, arguments: args })) as ToolResultLike,
    async finishAuth(callback) {
      transport ??= newTransport();
      await transport.finishAuth(callback.searchParams);
    },
    authorize: (scope) => v2Auth(provider, { serverUrl: url, scope, fetchFn: recorder.fetch }),
    async close() {
      for (const c of opened.splice(0)) await c.close().catch(() => {});
    },
  };
}

/** What the client throws when it needs the user to sign in (it has called redirectToAuthorization). */
export function isUnauthorizedError(error: unknown): boolean {
  return error instanceof UnauthorizedError || error instanceof V1UnauthorizedError;
}

export { InsufficientScopeError };
