/**
 * Serves the conformance fixture tools: `npx tsx examples/conformance/main.ts` (PORT, default 3100;
 * HOST, default 127.0.0.1). Anonymous: no credentials are read, every tool is `noauth`.
 */
import { fileURLToPath } from "node:url";
import { startServer, stopOnSignals } from "../../src/server.js";
import { project } from "./generated/project.js";

const authFile = fileURLToPath(new URL("auth.yaml", import.meta.url));
const toolsFile = fileURLToPath(new URL("tools.yaml", import.meta.url));
const running = await startServer({
  project,
  authFile,
  toolsFile,
  env: { ...process.env, AUTH_MODE: "anonymous", PORT: process.env.PORT || "3100" },
});

stopOnSignals(running);
