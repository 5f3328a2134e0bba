/**
 * What every benchmark server shares: the port from `PORT`, a `GET /healthz` answer, and a clean
 * exit on SIGTERM/SIGINT (so `node --cpu-prof` writes its profile).
 */
import type { Server } from "node:http";

export const PORT = Number(process.env.PORT ?? 0);
export const HOST = "127.0.0.1";

export const ECHO_DESCRIPTION = "Echoes the text it is given.";

export function exitOnSignal(server: Server): void {
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

export function announce(name: string, server: Server): void {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : PORT;
  console.log(`${name} listening on http://${HOST}:${port}/mcp`);
}
