/**
 * Runs the development authorization server in a worker thread and serves it on toolgate's own
 * port: each request for it is read here, handed to the thread as a message, and the thread's
 * answer written back.
 *
 * Why a thread: oidc-provider keeps its request context in an AsyncLocalStorage, and on Node 20
 * the first `run()` of one turns on async hooks for the whole process — every promise of every
 * /mcp request then pays for them, even though the provider answers only a handful of logins.
 * Measured by `npm run bench` before this change: 838 µs of CPU per tools/call in oauth2 mode with
 * the development server, 731 µs trusting an external issuer. In a worker those hooks stay in the
 * worker's isolate; the cost moves to the login and token requests.
 *
 * Why messages, not an HTTP proxy to the thread's port: a proxy made this thread an HTTP client
 * (ClientRequest, client-side IncomingMessage) for every sign-in and JWKS request, and node:http's
 * code, shared with the /mcp path, then sees objects of more shapes than V8 keeps fast property
 * access for (megamorphic inline caches in `end`, the `headers` getter, stream code…: bench/README.md).
 * The thread replays each request against its own server instead; this thread only reads requests
 * and writes responses, as for /mcp. The provider's requests and answers are small (forms, JSON, HTML
 * pages): they are read whole, bounded by MAX_BODY_BYTES.
 */
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { readBody } from "../http/body.js";
import type { DevAuthorizationServer, DevAuthorizationServerOptions } from "./index.js";
import { type HostMessage, replayedHeaders, type WorkerAnswer, type WorkerMessage } from "./worker-protocol.js";

/** The largest request body forwarded to the provider (its largest are client registrations). */
export const MAX_BODY_BYTES = 256 * 1024;
/** A forwarded request the thread has not answered by then is answered 503. */
const ANSWER_TIMEOUT_MS = 30_000;

/** A body as the worker gets it: none when empty. */
const forwarded = (body: Buffer) => ({ kind: "ok" as const, body: body.length === 0 ? undefined : body });

interface Pending {
  res: ServerResponse;
  next: ((err?: unknown) => void) | undefined;
  timer: NodeJS.Timeout;
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

  const issuerUrl = new URL(ready.issuer);
  const pending = new Map<number, Pending>();
  let lastId = 0;
  let gone = false;
  const unavailable = (res: ServerResponse, reason: string) => {
    logger?.warn({ reason }, "development authorization server unreachable");
    if (res.headersSent) res.destroy();
    else
      res
        .writeHead(503, { "content-type": "application/json", "retry-after": "1" })
        .end(JSON.stringify({ error: "temporarily_unavailable" }));
  };
  const settle = (message: WorkerAnswer) => {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    clearTimeout(waiting.timer);
    const { res, next } = waiting;
    if (res.destroyed) return; // the client left
    if ("unclaimed" in message) {
      if (next) next();
      else res.writeHead(404).end();
    } else if ("error" in message) unavailable(res, message.error);
    else {
      try {
        res.writeHead(message.status, message.headers).end(message.body);
      } catch (error) {
        // a header node:http refuses to write: the client gets a closed connection, not a crash
        logger?.warn({ err: error }, "development authorization server answer not writable");
        res.destroy();
      }
    }
  };
  worker.on("message", (message: WorkerMessage) => {
    if (message.type === "answer") settle(message);
  });
  worker.once("exit", () => {
    gone = true;
    for (const id of [...pending.keys()]) settle({ type: "answer", id, error: "the worker exited" });
  });

  const handler: DevAuthorizationServer["handler"] = (req, res, next) => {
    if (gone || stopping) return unavailable(res, "the worker is stopped");
    void readBody(req, MAX_BODY_BYTES, forwarded).then((read) => {
      if (read.kind === "aborted") return;
      if (read.kind === "too-large") {
        res
          .writeHead(413, { "content-type": "application/json", connection: "close" })
          .end(JSON.stringify({ error: "invalid_request", error_description: "request body too large" }));
        return;
      }
      if (gone || stopping) return unavailable(res, "the worker is stopped");
      const id = ++lastId;
      const timer = setTimeout(() => settle({ type: "answer", id, error: "no answer in time" }), ANSWER_TIMEOUT_MS);
      timer.unref();
      pending.set(id, { res, next, timer });
      const message: HostMessage = {
        type: "request",
        id,
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: replayedHeaders(req.headers, issuerUrl),
        body: read.body,
      };
      worker.postMessage(message);
    });
  };

  return {
    issuer: ready.issuer,
    jwksUri: ready.jwksUri,
    publicJwks: ready.publicJwks,
    authorizationEndpoint: ready.authorizationEndpoint,
    handler,
    close: async () => {
      stopping = true;
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage({ type: "close" });
      const timer = setTimeout(() => void worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
