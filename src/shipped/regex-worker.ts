/**
 * Runs a regular expression over file contents in a `worker_threads` worker, so a pattern that
 * backtracks catastrophically (`(a+)+$` against `aaaa…!`) blocks the worker, never the server:
 * the caller terminates the worker when its time budget runs out.
 *
 * The worker's code is the small script below, started with `eval: true`: it works the same from
 * the compiled `dist/` build, under `tsx` (`npm run dev`) and under vitest, with no loader or file
 * path to resolve. It only matches; reading files, filtering and building results stay in
 * typed code on the main thread.
 */
import { Worker } from "node:worker_threads";

/**
 * One matching line: its 1-based number, and offsets (UTF-16 code units, into the text sent) of the
 * line's start, the first match's start and end, and the line's end (before `\r\n` / `\n`).
 */
export type LineHit = readonly [line: number, lineStart: number, matchStart: number, matchEnd: number, lineEnd: number];

/**
 * Plain JavaScript (CommonJS, as eval workers run it). A `pattern` message sets the expression for
 * the scans that follow; a scan reports the first match of each line.
 */
const WORKER_SOURCE = String.raw`"use strict";
const { parentPort } = require("node:worker_threads");
let re = null;
parentPort.on("message", (msg) => {
  if (msg.pattern) {
    re = new RegExp(msg.pattern.source, msg.pattern.flags);
    return;
  }
  const text = msg.text;
  const hits = [];
  let error;
  try {
    let line = 0;
    let start = 0;
    while (start < text.length && hits.length < msg.maxHits) {
      let end = text.indexOf("\n", start);
      if (end === -1) end = text.length;
      line++;
      const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
      const m = re.exec(text.slice(start, lineEnd));
      if (m) hits.push([line, start, start + m.index, start + m.index + m[0].length, lineEnd]);
      start = end + 1;
    }
  } catch (e) {
    error = String((e && e.message) || e);
  }
  parentPort.postMessage({ id: msg.id, hits, error });
});
`;

export class ScannerStoppedError extends Error {
  override readonly name = "ScannerStoppedError";
}

export interface RegexScanner {
  /** Finds the matching lines of `text` (at most `maxHits`). Rejects with ScannerStoppedError once stopped. */
  scan(text: string, maxHits: number): Promise<LineHit[]>;
  /** Terminates the worker at once (even in the middle of a match) and rejects every pending scan. */
  stop(): void;
  /** Ends this scanner: an idle, healthy worker is kept for the next search; a busy one is terminated. */
  release(): void;
}

/** Idle workers kept for the next searches (starting one costs tens of milliseconds). */
const idle: Worker[] = [];
const MAX_IDLE = 2;

function spawnWorker(): Worker {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // A runaway pattern may use memory as well as time; a file is at most a few MiB of text.
    resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 32 },
  });
  worker.unref(); // an idle or stuck worker never keeps the process alive
  const forget = () => {
    const i = idle.indexOf(worker);
    if (i >= 0) idle.splice(i, 1);
  };
  worker.on("exit", forget);
  worker.on("error", forget);
  return worker;
}

/**
 * A scanner for one search, on an idle worker or a new one. `source` and `flags` must already have
 * been checked with `new RegExp(source, flags)` on the main thread, so a syntax error is reported there.
 */
export function startRegexScanner(source: string, flags: string): RegexScanner {
  const worker = idle.pop() ?? spawnWorker();
  const pending = new Map<number, { resolve: (hits: LineHit[]) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let stopped: Error | undefined;

  const fail = (error: Error) => {
    stopped ??= error;
    for (const p of pending.values()) p.reject(stopped);
    pending.clear();
  };
  const onMessage = (msg: { id: number; hits: LineHit[]; error?: string }) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    // A pattern that throws on one file (e.g. "Maximum call stack size exceeded") matches nothing there.
    p.resolve(msg.error === undefined ? msg.hits : []);
  };
  const onError = (error: Error) => fail(new ScannerStoppedError(`regex worker failed: ${error.message}`));
  const onExit = () => fail(new ScannerStoppedError("regex worker exited"));
  worker.on("message", onMessage);
  worker.on("error", onError);
  worker.on("exit", onExit);
  worker.postMessage({ pattern: { source, flags } });

  const detach = () => {
    worker.off("message", onMessage);
    worker.off("error", onError);
    worker.off("exit", onExit);
  };
  return {
    scan(text, maxHits) {
      if (stopped) return Promise.reject(stopped);
      const id = nextId++;
      return new Promise<LineHit[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, text, maxHits });
      });
    },
    stop() {
      if (stopped) return;
      fail(new ScannerStoppedError("regex scan stopped"));
      detach();
      void worker.terminate();
    },
    release() {
      if (stopped) return;
      if (pending.size > 0 || idle.length >= MAX_IDLE) return this.stop();
      stopped = new ScannerStoppedError("regex scanner released");
      detach();
      idle.push(worker);
    },
  };
}
