/**
 * toolgate for end-to-end tests: started in-process on 127.0.0.1 with port 0, a throw-away DATA_DIR
 * and the development authorization server mounted on the same port (no authorization server is
 * configured). With `clientMetadataDocuments`, the shipped auth.yaml is copied into the data folder
 * with `developmentServer.clientMetadataDocuments` added, so the development server serves those
 * Client ID Metadata Documents.
 *
 * The shipped tools read their folders (DOCS_DIR, MEMORY_DB, defaulting under DATA_DIR) from
 * `process.env`, not from the `env` given to startServer: without the redirection below, documents
 * written by docs.create would land in the repository's ./data/docs. So while any e2e server of this
 * process runs, those variables point into a throw-away folder of its own.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import type { RunningServer } from "../../../src/server.js";
import { resetSettings } from "../../../src/shipped/settings.js";
import { startTestServer } from "../../helpers/server.js";
import { REPO } from "../../helpers/temp-project.js";

/** Where headless clients say they want the browser back; nothing listens there. */
export const HEADLESS_REDIRECT = "http://127.0.0.1/callback";

/** A CIMD client_id the tests use (https, as CIMD requires); the development server serves it from memory. */
export const CIMD_CLIENT_ID = "https://client.toolgate-e2e.example/oauth/client-metadata.json";
export const CIMD_DOCUMENT = {
  client_id: CIMD_CLIENT_ID,
  client_name: "toolgate e2e (Client ID Metadata Document)",
  redirect_uris: [HEADLESS_REDIRECT],
  grant_types: ["authorization_code"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};

export interface E2eServer {
  server: RunningServer & { mcpUrl: URL };
  mcpUrl: URL;
  /** The server's origin, which is also the development authorization server's issuer. */
  origin: string;
  dataDir: string;
  close(): Promise<void>;
}

let toolsData: { dir: string; users: number; saved: Record<string, string | undefined> } | undefined;
const TOOL_VARIABLES = ["DOCS_DIR", "MEMORY_DB"] as const;

async function useToolsData(): Promise<() => Promise<void>> {
  if (!toolsData) {
    const dir = await mkdtemp(join(tmpdir(), "toolgate-e2e-tools-"));
    const saved = Object.fromEntries(TOOL_VARIABLES.map((name) => [name, process.env[name]]));
    process.env.DOCS_DIR = join(dir, "docs");
    process.env.MEMORY_DB = join(dir, "memory.sqlite");
    resetSettings();
    toolsData = { dir, users: 0, saved };
  }
  const current = toolsData;
  current.users++;
  return async () => {
    if (--current.users > 0) return;
    for (const name of TOOL_VARIABLES) {
      if (current.saved[name] === undefined) delete process.env[name];
      else process.env[name] = current.saved[name];
    }
    resetSettings();
    if (toolsData === current) toolsData = undefined;
    await rm(current.dir, { recursive: true, force: true });
  };
}

export async function startE2eServer(options: {
  mode: "oauth2" | "optional";
  env?: Record<string, string>;
  clientMetadataDocuments?: Record<string, Record<string, unknown>>;
}): Promise<E2eServer> {
  const releaseToolsData = await useToolsData();
  const dataDir = await mkdtemp(join(tmpdir(), "toolgate-e2e-"));
  const env: Record<string, string> = { AUTH_MODE: options.mode, DATA_DIR: dataDir, ...options.env };
  try {
    if (options.clientMetadataDocuments) {
      const document = parseDocument(await readFile(join(REPO, "auth.yaml"), "utf8"));
      document.setIn(["developmentServer", "clientMetadataDocuments"], options.clientMetadataDocuments);
      const file = join(dataDir, "auth.yaml");
      await writeFile(file, document.toString());
      env.AUTH_CONFIG_FILE = file;
    }
    const server = await startTestServer(env);
    return {
      server,
      mcpUrl: server.mcpUrl,
      origin: server.url,
      dataDir,
      async close() {
        await server.close();
        await rm(dataDir, { recursive: true, force: true });
        await releaseToolsData();
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    await releaseToolsData();
    throw error;
  }
}
