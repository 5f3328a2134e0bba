import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { createDevAuthorizationServer, type DevAuthorizationServer } from "../../src/dev-as/index.js";

export const SCOPES = {
  "search.read": "Search the wider code folder.",
  "docs.write": "Create and replace Markdown documents.",
  "memory.read": "Search your private memory.",
};

export interface RunningDevServer {
  port: number;
  issuer: string;
  resource: string;
  devAs: DevAuthorizationServer;
  close(): Promise<void>;
}

export interface DevServerOptions {
  dataDir: string;
  /** 0 (default) picks a free port; a fixed one restarts a server where it was. */
  port?: number;
  clientMetadataDocuments?: Record<string, Record<string, unknown>>;
}

/**
 * An express app laid out as toolgate's: its own routes first (a stub protected resource metadata
 * document), the development authorization server mounted last at the root. It listens before
 * the provider exists, because the issuer URL is only known once the port is.
 */
export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  const app = express();
  const server = await listen(app, options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const resource = `${issuer}/mcp`;

  app.get("/.well-known/oauth-protected-resource", (_req, res) => {
    res.json({ resource, authorization_servers: [issuer] });
  });
  const devAs = await createDevAuthorizationServer({
    issuer,
    resource,
    scopes: SCOPES,
    dataDir: options.dataDir,
    clientMetadataDocuments: options.clientMetadataDocuments,
    logger: { debug() {}, info() {}, warn() {} },
  });
  app.use(devAs.handler);

  return {
    port,
    issuer,
    resource,
    devAs,
    async close() {
      await devAs.close();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function listen(app: express.Express, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, "127.0.0.1", (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}

export async function temporaryDataDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "toolgate-dev-as-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
