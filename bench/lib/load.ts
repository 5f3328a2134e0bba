/**
 * One load run with autocannon (programmatic, in this process, which is pinned to the load core):
 * 50 connections at saturation (a fixed offered load is lib/paced.ts: autocannon's `overallRate`
 * sends each second's quota in a burst). Every answer is checked: a 2xx whose body is a JSON-RPC
 * result that is no tool error; anything else counts as bad.
 */
import autocannon, { type AutocannonRequest } from "autocannon";
import { type AnswerCounts, AnswerTally, type HttpRequest } from "./requests.js";

export interface LoadOptions {
  /** http://127.0.0.1:PORT */
  base: string;
  request: HttpRequest;
  connections: number;
  /** Whole seconds: autocannon runs a fraction up to the next second (0.5 runs ~1 s). */
  durationSec: number;
  /** Rewrites each request before it is sent (e.g. a fresh token per request). */
  setupRequest?: (request: HttpRequest) => HttpRequest;
  /** What a correct answer is: a 2xx JSON-RPC result (default), or a given status (attack runs). */
  expectStatus?: number;
}

export interface LoadResult extends AnswerCounts {
  /** Answers per second (autocannon's mean of per-second counts). */
  rps: number;
  /** Latency in ms: whole milliseconds (autocannon's histogram truncates). */
  p50: number;
  p99: number;
  mean: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const tally = new AnswerTally(options.expectStatus);
  const onResponse = (status: number, body: string) => void tally.answer(status, body);
  const { setupRequest } = options;
  const request: AutocannonRequest = {
    ...options.request,
    onResponse,
    ...(setupRequest
      ? {
          setupRequest: (req: AutocannonRequest) => {
            const next = setupRequest(options.request);
            req.headers = next.headers;
            req.body = next.body;
            return req;
          },
        }
      : {}),
  };
  const result = await autocannon({
    url: options.base,
    connections: options.connections,
    duration: options.durationSec,
    timeout: 10,
    requests: [request],
  });
  const counts = tally.counts();
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    total: result.requests.total,
    ...counts,
    // autocannon counts what got no answer itself (no body reaches onResponse).
    bad: counts.bad + result.errors + result.timeouts,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
