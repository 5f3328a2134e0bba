/**
 * The worker-thread side of the development authorization server (see worker-host.ts): builds the
 * provider, serves it on 127.0.0.1 at a port of its own, and reports that port. Requests no
 * provider route claims are answered 404 with the UNCLAIMED header, so the host can hand them on.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { createDevAuthorizationServer, type DevAuthorizationServerOptions } from "./index.js";
import { UNCLAIMED_HEADER, type WorkerMessage } from "./worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("src/dev-as/worker.ts runs in a worker thread only");
const post = (message: WorkerMessage) => port.postMessage(message);

const log =
  (level: "info" | "warn") =>
  (fields: object, message?: string): void => {
    try {
      post({ type: "log", level, fields, ...(message !== undefined ? { message } : {}) });
    } catch {
      // a field that cannot be cloned: send the message alone
      post({ type: "log", level, fields: {}, ...(message !== undefined ? { message } : {}) });
    }
  };

try {
  const options = workerData as Omit<DevAuthorizationServerOptions, "logger">;
  const dev = await createDevAuthorizationServer({ ...options, logger: { info: log("info"), warn: log("warn") } });
  const server = createServer((req, res) =>
    dev.handler(req, res, () => void res.writeHead(404, { [UNCLAIMED_HEADER]: "1" }).end()),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  port.on("message", (message: { type: "close" }) => {
    if (message.type !== "close") return;
    server.close();
    server.closeAllConnections();
    void dev.close().then(() => port.close());
  });
  post({
    type: "ready",
    port: (server.address() as AddressInfo).port,
    issuer: dev.issuer,
    jwksUri: dev.jwksUri,
    authorizationEndpoint: dev.authorizationEndpoint,
  });
} catch (error) {
  post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
}
