/**
 * Runs the development authorization server in a worker thread and serves it on toolgate's own
 * port through a local proxy.
 *
 * Why a thread: oidc-provider keeps its request context in an AsyncLocalStorage, and on Node 20
 * the first `run()` of one turns on async hooks for the whole process — every promise of every
 * /mcp request then pays for them, even though the provider answers only a handful of logins.
 * Measured by `npm run bench` before this change: 838 µs of CPU per tools/call in oauth2 mode with
 * the development server, 731 µs trusting an external issuer. In a worker those hooks stay in the
 * worker's isolate; the cost moves to the login and token requests, which go through one extra
 * local hop. (Measured since with each server alone on the core: an oauth2 server hosting this
 * worker and one trusting an external issuer are within the bench's noise of each other.)
 */
import { Agent, type IncomingMessage, request, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { DevAuthorizationServer, DevAuthorizationServerOptions } from "./index.js";
import { UNCLAIMED_HEADER, type WorkerMessage } from "./worker-protocol.js";

/** Hop-by-hop headers (RFC 9110 §7.6.1) a proxy does not forward. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]);

function withoutHopByHop(headers: IncomingMessage["headers"]): IncomingMessage["headers"] {
  const copy: IncomingMessage["headers"] = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) copy[name] = value;
  return copy;
}

/**
 * How to start the worker module next to this one: the compiled JavaScript directly; from
 * TypeScript sources (tests, `tsx`), through a bootstrap that registers tsx in the thread first.
 */
function workerEntry(): { source: string | URL; eval: boolean } {
  if (!import.meta.url.endsWith(".ts")) return { source: new URL("./worker.js", import.meta.url), eval: false };
  // tsx's ESM API entry (its CommonJS one cannot register the ESM hooks).
  const tsx = join(dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist/esm/api/index.mjs");
  const worker = new URL("./worker.ts", import.meta.url).href;
  return {
    source: `import(${JSON.stringify(pathToFileURL(tsx).href)}).then(({ register }) => { register(); return import(${JSON.stringify(worker)}); });`,
    eval: true,
  };
}

export async function startDevAuthorizationServerWorker(
  options: DevAuthorizationServerOptions,
): Promise<DevAuthorizationServer> {
  const { logger, ...data } = options;
  const entry = workerEntry();
  const worker = new Worker(entry.source, { workerData: data, eval: entry.eval });
  worker.unref(); // the HTTP server keeps the process alive, never this thread
  let stopping = false;
  const ready = await new Promise<Extract<WorkerMessage, { type: "ready" }>>((resolve, reject) => {
    worker.on("message", (message: WorkerMessage) => {
      if (message.type === "ready") resolve(message);
      else if (message.type === "failed")
        reject(new Error(`the development authorization server did not start: ${message.message}`));
      else if (message.type === "log") logger?.[message.level](message.fields, message.message);
    });
    worker.once("error", (error) =>
      reject(new Error(`the development authorization server did not start: ${error.message}`)),
    );
    worker.once("exit", (code) => {
      if (!stopping) {
        const failure = `the development authorization server's worker exited (code ${code})`;
        reject(new Error(failure));
        logger?.warn({ code }, failure);
      }
    });
  });

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const handler: DevAuthorizationServer["handler"] = (req, res, next) => {
    const upstream = request(
      {
        host: "127.0.0.1",
        port: ready.port,
        method: req.method,
        path: req.url,
        headers: withoutHopByHop(req.headers),
        agent,
      },
      (answer: IncomingMessage) => {
        if (answer.headers[UNCLAIMED_HEADER] !== undefined) {
          answer.resume();
          if (next) next();
          else res.writeHead(404).end();
          return;
        }
        res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
        answer.pipe(res);
      },
    );
    upstream.on("error", (error) => unavailable(res, error));
    req.pipe(upstream);
  };
  const unavailable = (res: ServerResponse, error: Error) => {
    logger?.warn({ err: error }, "development authorization server unreachable");
    if (res.headersSent) res.destroy();
    else
      res
        .writeHead(503, { "content-type": "application/json", "retry-after": "1" })
        .end(JSON.stringify({ error: "temporarily_unavailable" }));
  };

  return {
    issuer: ready.issuer,
    jwksUri: ready.jwksUri,
    authorizationEndpoint: ready.authorizationEndpoint,
    handler,
    close: async () => {
      stopping = true;
      agent.destroy();
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage({ type: "close" });
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
