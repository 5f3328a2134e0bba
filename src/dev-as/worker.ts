/**
 * The worker-thread side of the development authorization server (see worker-host.ts): builds the
 * provider and serves it on 127.0.0.1 at a port of its own that only this thread uses. The host
 * forwards each request as a message; the thread replays it against that server over HTTP and
 * answers with the whole response. Requests no provider route claims are answered `unclaimed`, so
 * the host can hand them on.
 */
import { Agent, createServer, type IncomingMessage, request } from "node:http";
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { createDevAuthorizationServer, type DevAuthorizationServerOptions } from "./index.js";
import {
  type HostMessage,
  UNCLAIMED_HEADER,
  type WorkerAnswer,
  type WorkerMessage,
  withoutHopByHop,
} from "./worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("src/dev-as/worker.ts runs in a worker thread only");
const post = (message: WorkerMessage) => port.postMessage(message);

const log =
  (level: "debug" | "info" | "warn") =>
  (fields: object, message?: string): void => {
    try {
      post({ type: "log", level, fields, ...(message !== undefined ? { message } : {}) });
    } catch {
      // a field that cannot be cloned: send the message alone
      post({ type: "log", level, fields: {}, ...(message !== undefined ? { message } : {}) });
    }
  };

/** Replays one forwarded request against the provider's server in this thread. */
function replay(
  serverPort: number,
  agent: Agent,
  message: Extract<HostMessage, { type: "request" }>,
): Promise<WorkerAnswer> {
  const { id, method, url, body } = message;
  const headers = { ...message.headers };
  delete headers["content-length"];
  if (body !== undefined) headers["content-length"] = String(body.byteLength);
  return new Promise((resolve) => {
    const onAnswer = (answer: IncomingMessage) => {
      if (answer.headers[UNCLAIMED_HEADER] !== undefined) {
        answer.resume();
        resolve({ type: "answer", id, unclaimed: true });
        return;
      }
      const chunks: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => chunks.push(chunk));
      answer.once("error", (error) => resolve({ type: "answer", id, error: error.message }));
      answer.once("end", () =>
        resolve({
          type: "answer",
          id,
          status: answer.statusCode ?? 502,
          headers: withoutHopByHop(answer.headers),
          body: Buffer.concat(chunks),
        }),
      );
    };
    const upstream = request({ host: "127.0.0.1", port: serverPort, method, path: url, headers, agent }, onAnswer);
    upstream.once("error", (error) => resolve({ type: "answer", id, error: error.message }));
    upstream.end(body);
  });
}

try {
  const options = workerData as Omit<DevAuthorizationServerOptions, "logger">;
  const dev = await createDevAuthorizationServer({
    ...options,
    // Only the host's replays reach this thread's listener, with X-Forwarded-Proto/-Host set from the
    // issuer (worker-protocol.ts, replayedHeaders).
    trustForwardedHeaders: true,
    logger: { debug: log("debug"), info: log("info"), warn: log("warn") },
  });
  const server = createServer((req, res) =>
    dev.handler(req, res, () => void res.writeHead(404, { [UNCLAIMED_HEADER]: "1" }).end()),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const serverPort = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  port.on("message", (message: HostMessage) => {
    if (message.type === "request") {
      void replay(serverPort, agent, message).then(post);
      return;
    }
    if (message.type !== "close") return;
    agent.destroy();
    server.close();
    server.closeAllConnections();
    void dev.close().then(() => port.close());
  });
  post({
    type: "ready",
    issuer: dev.issuer,
    jwksUri: dev.jwksUri,
    publicJwks: dev.publicJwks,
    authorizationEndpoint: dev.authorizationEndpoint,
  });
} catch (error) {
  post({ type: "failed", message: error instanceof Error ? error.message : String(error) });
}
