/**
 * The bench's fixed offered load (bench/lib/paced.ts): requests spread over the window (autocannon's
 * `overallRate` sent each second's quota in one burst), every one answered and checked — a tool error
 * or a non-2xx is bad, not a result. Correctness only: the figures are the harness's business.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runPaced } from "../../bench/lib/paced.js";

const RESULT = '{"jsonrpc":"2.0","id":1,"result":{"content":[]}}';
const TOOL_ERROR = '{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}';
let answer = RESULT;
let status = 200;
const arrivals: number[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      arrivals.push(performance.now());
      res.writeHead(status, { "content-type": "application/json" }).end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const request = { method: "POST" as const, path: "/mcp", headers: { "content-type": "application/json" }, body: "{}" };

it("sends the requests spread over the window, not in a burst, and times each answer", async () => {
  arrivals.length = 0;
  const result = await runPaced({ base, request, connections: 10, durationSec: 1, rate: 200 });
  expect(result).toMatchObject({ offered: 200, total: 200, ok: 200, bad: 0, toolErrors: 0 });
  // The first 10 arrivals opened the connections (not counted); the 200 paced ones follow.
  const paced = arrivals.slice(10);
  expect(paced).toHaveLength(200);
  // Due at 0, 5, …, 995 ms: a burst would arrive within a few ms. Wide margins for a loaded machine.
  expect(paced.at(-1)! - paced[0]!).toBeGreaterThan(500);
  expect(paced.filter((t) => t - paced[0]! < 100).length).toBeLessThan(100);
  expect(result.p50).toBeGreaterThan(0);
  expect(result.p99).toBeGreaterThanOrEqual(result.p50);
});

it("gives up on each request a set time after its send, also on requests queued behind a hung one", async () => {
  const hung = createServer(() => {}); // reads requests, never answers
  await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
  try {
    const started = performance.now();
    const result = await runPaced({
      base: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
      request,
      connections: 1,
      durationSec: 1,
      rate: 10,
      answerTimeoutMs: 500,
    });
    expect(result).toMatchObject({ ok: 0, bad: 10 });
    expect(result.firstBad).toBe("request: no answer within 500 ms");
    // Timed from each send: done ~0.5 s after the opening request and ~0.5 s after the last send
    // (~2 s). Timed per connection, the ten requests queued on the one connection took 0.5 s each
    // in turn after the opening one (~6 s).
    expect(performance.now() - started).toBeLessThan(4_000);
  } finally {
    hung.closeAllConnections();
    await new Promise<void>((resolve) => hung.close(() => resolve()));
  }
});

it("counts a tool error and a non-2xx as bad, naming the first", async () => {
  answer = TOOL_ERROR;
  try {
    const errors = await runPaced({ base, request, connections: 2, durationSec: 1, rate: 20 });
    expect(errors).toMatchObject({ ok: 0, bad: 20, toolErrors: 20 });
    expect(errors.firstBad).toBe(`200 ${TOOL_ERROR}`);
    answer = RESULT;
    status = 503;
    const refused = await runPaced({ base, request, connections: 2, durationSec: 1, rate: 20 });
    expect(refused).toMatchObject({ ok: 0, bad: 20, toolErrors: 0 });
    expect(refused.firstBad).toBe(`503 ${RESULT}`);
  } finally {
    answer = RESULT;
    status = 200;
  }
});
