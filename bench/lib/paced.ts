/**
 * A fixed offered load: requests sent at evenly spaced moments (`rate` per second, open loop), over
 * at most `connections` keep-alive connections, each answer timed from the moment it was due to be
 * sent (so a server that falls behind is charged for the wait it causes: no coordinated omission)
 * to its last byte, in microseconds.
 *
 * Not autocannon: its `overallRate` gives each connection its quota for the second and sends it back
 * to back at the start of the second, then idles until the next one (autocannon 9.0.0,
 * lib/httpClient.js), so "50 % load" was a burst at full speed and a pause; and it corrects for
 * coordinated omission with an expected interval of `ceil(1 / per-connection rate)` = 1 ms where the
 * real one was ~33 ms, turning one slow answer into dozens of samples; and its histogram keeps whole
 * milliseconds. Measured on a trivial server, 1,500/s over 50 connections for 1 s: 1,500 of the
 * requests sent in the first 100 ms; p50 18 ms / p99 124 ms reported from 11,290 samples for 1,543
 * answers (bench/README.md).
 */
import { Agent, createServer, request as httpRequest } from "node:http";
import { type AnswerCounts, AnswerTally, type HttpRequest } from "./requests.js";

export interface PacedOptions {
  /** http://127.0.0.1:PORT */
  base: string;
  request: HttpRequest;
  connections: number;
  durationSec: number;
  /** Requests per second offered, whatever the server does. */
  rate: number;
  /**
   * Seconds of the same paced load before the window, not measured (default 0). The first ~20 ms
   * of a window on fresh connections ran the sender up to 8 ms late even once its code was optimised.
   */
  preRollSec?: number;
  /** How long an answer may take from its send, ms (default 10,000); then the request is bad. */
  answerTimeoutMs?: number;
}

export interface PacedResult extends AnswerCounts {
  /** Requests offered per second: those sent in the window (a whole number) over its length. */
  offered: number;
  /** Answers per second over the window. */
  rps: number;
  /** Latency in ms (microsecond resolution), from the moment each request was due. */
  p50: number;
  p99: number;
  mean: number;
  total: number;
  /** How late the sender was at worst, in ms (a sender that cannot keep the pace would show here). */
  maxSendLagMs: number;
}

/** The value at quantile `q` of sorted `values` (nearest rank). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export async function runPaced(options: PacedOptions): Promise<PacedResult> {
  const url = new URL(options.base);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const body = Buffer.from(options.request.body);
  const headers = { ...options.request.headers, "content-length": String(body.length) };
  const tally = new AnswerTally();
  const latencies: number[] = [];
  const answerTimeoutMs = options.answerTimeoutMs ?? 10_000;

  const send = (due: number, record: boolean): Promise<void> =>
    new Promise((resolve) => {
      const fail = (what: string) => {
        if (record) tally.failed(what);
        resolve();
      };
      const req = httpRequest(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: options.request.method,
          path: options.request.path,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (error) => fail(`response: ${error.message}`));
          res.on("end", () => {
            const ms = performance.now() - due;
            if (!record) return resolve();
            if (tally.answer(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"))) latencies.push(ms);
            resolve();
          });
        },
      );
      // From the send, not from when a connection was free (a socket timeout starts only then): with
      // a server that never answers, the queued requests each waited another 10 s.
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${answerTimeoutMs} ms`)), answerTimeoutMs);
      req.on("close", () => clearTimeout(timer));
      req.on("error", (error) => fail(`request: ${error.message}`));
      req.end(body);
    });

  try {
    // Open the connections first (answers not counted): a connection set up inside the window would
    // charge its handshake to the requests that waited for it.
    await Promise.all(Array.from({ length: options.connections }, () => send(performance.now(), false)));
    const interval = 1000 / options.rate;
    const n = Math.max(1, Math.round(options.rate * options.durationSec));
    // The pre-roll's requests come first on the same schedule, unmeasured; the window starts after them.
    const pre = Math.round(options.rate * (options.preRollSec ?? 0));
    const begin = performance.now() + 1;
    const start = begin + pre * interval;
    const inFlight: Promise<void>[] = [];
    let maxSendLagMs = 0;
    await new Promise<void>((done) => {
      let next = 0;
      // The sender polls with setImmediate (this process has the load generator's core to itself), so
      // a request leaves within microseconds of its moment, and answers are read between polls.
      const tick = () => {
        const now = performance.now();
        while (next < pre + n && begin + next * interval <= now) {
          const due = begin + next * interval;
          const measured = next >= pre;
          if (measured) maxSendLagMs = Math.max(maxSendLagMs, now - due);
          inFlight.push(send(due, measured));
          next++;
        }
        if (next < pre + n) setImmediate(tick);
        else done();
      };
      setImmediate(tick);
    });
    await Promise.all(inFlight);
    const windowMs = performance.now() - start;
    const sorted = latencies.sort((a, b) => a - b);
    return {
      offered: n / options.durationSec,
      rps: (tally.ok * 1000) / Math.max(windowMs, options.durationSec * 1000),
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      mean: sorted.length ? sorted.reduce((s, v) => s + v, 0) / sorted.length : Number.NaN,
      total: n,
      ...tally.counts(),
      maxSendLagMs,
    };
  } finally {
    agent.destroy();
  }
}

/**
 * Runs the sender for `seconds` against a trivial server of its own, so its code is optimised before
 * the first measured window: fresh, it ran 4–8 ms late for its first 4–5 one-second runs (V8
 * optimising the http client and the loop). The harness does this while it compiles the servers.
 * What is left — sends a few ms late now and then within a window, in the harness as in a process
 * of its own, single-threaded or not (tried) — is the floor of this sender's p99: the table flags it.
 */
export async function warmPaced(seconds: number): Promise<void> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end('{"jsonrpc":"2.0","id":1,"result":{"content":[]}}'));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as { port: number };
    const request = {
      method: "POST" as const,
      path: "/mcp",
      headers: { "content-type": "application/json" },
      body: "{}",
    };
    for (let i = 0; i < seconds; i++)
      await runPaced({ base: `http://127.0.0.1:${port}`, request, connections: 50, durationSec: 1, rate: 1500 });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
