/**
 * The search behind `codebase.search`: a literal string or a JavaScript regular expression, line by
 * line, in the files below a root folder that `.gitignore` does not hide.
 *
 * Safety: the caller's `path` is resolved (symbolic links included) and must stay inside the root;
 * the walk never follows links and opens files with O_NOFOLLOW; binary and large files are skipped;
 * the number of files read is bounded; the matching runs in a worker thread under a hard time
 * budget (the worker is terminated when it runs out) and the search stops when the request aborts.
 */

import { realpath, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { isAbsolute, join, relative, sep, win32 } from "node:path";
import { ToolError } from "../toolgate.js";
import {
  type IgnoreLevel,
  isAlwaysSkipped,
  isIgnored,
  levelsFor,
  loadIgnoreLevel,
  walkFiles,
} from "./gitignore-walk.js";
import { type LineHit, ScannerStoppedError, startRegexScanner } from "./regex-worker.js";
import { openRegularFile, readInto } from "./regular-file.js";

export interface SearchOptions {
  /** The folder searched (absolute); results are relative to it. */
  root: string;
  query: string;
  regex?: boolean;
  caseSensitive?: boolean;
  /** A folder or file below the root, relative to it. */
  path?: string;
  limit?: number;
  maxFileBytes: number;
  maxFiles: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface SearchMatch {
  path: string;
  line: number;
  column: number;
  snippet: string;
}

export interface SearchResult {
  matches: SearchMatch[];
  /** More matches exist than were returned, or the search stopped early (time, file count, cancel). */
  truncated: boolean;
  filesSearched: number;
}

export const SNIPPET_MAX = 200;
/** Files whose first this-many bytes hold a NUL byte are binary. */
export const BINARY_PROBE_BYTES = 8192;
/** Searches running at once in this process (each has a worker); others wait, within their time budget. */
const MAX_CONCURRENT_SEARCHES = Math.max(2, availableParallelism());
/** Files read (and queued to the worker) ahead of the one whose matches are taken next. */
const READ_AHEAD = 16;

/** The pattern to run, checked here so a syntax error is a clear message rather than a dead worker. */
export function compilePattern(
  query: string,
  regex: boolean,
  caseSensitive: boolean,
): { source: string; flags: string } {
  const flags = caseSensitive ? "" : "i";
  // A literal becomes an escaped pattern: no quantifiers, so it runs in linear time.
  const source = regex ? query : query.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  try {
    new RegExp(source, flags);
  } catch (error) {
    throw new ToolError(`${(error as Error).message}`);
  }
  return { source, flags };
}

/** Shortens `line` to at most `max` characters around [start, end), marking cuts with "…". */
export function makeSnippet(line: string, start: number, end: number, max = SNIPPET_MAX): string {
  if (line.length <= max) return line.trim();
  const budget = max - 2; // room for an ellipsis at each end
  const matchLength = Math.min(Math.max(end - start, 0), budget);
  let from = Math.max(0, start - Math.floor((budget - matchLength) / 2));
  let to = Math.min(line.length, from + budget);
  from = Math.max(0, to - budget);
  // Never cut a surrogate pair in half.
  if (from > 0 && isLowSurrogate(line.charCodeAt(from))) from++;
  if (to < line.length && isHighSurrogate(line.charCodeAt(to - 1))) to--;
  return `${from > 0 ? "…" : ""}${line.slice(from, to)}${to < line.length ? "…" : ""}`;
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Characters (code points) in text[from, to). */
function codePoints(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    n++;
    if (isHighSurrogate(text.charCodeAt(i)) && i + 1 < to && isLowSurrogate(text.charCodeAt(i + 1))) i++;
  }
  return n;
}

function toMatch(rel: string, text: string, hit: LineHit): SearchMatch {
  const [line, lineStart, matchStart, matchEnd, lineEnd] = hit;
  return {
    path: rel,
    line,
    column: codePoints(text, lineStart, matchStart) + 1,
    snippet: makeSnippet(text.slice(lineStart, lineEnd), matchStart - lineStart, matchEnd - lineStart),
  };
}

const within = (root: string, target: string) => {
  const rel = relative(root, target);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
};

/** Whether `rel` (below the root) is hidden by `.gitignore`, `.git` or `node_modules` — or a folder on its way is. */
async function excluded(
  rootReal: string,
  rel: string,
  isDirectory: boolean | undefined,
): Promise<IgnoreLevel[] | undefined> {
  const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
  const levels = await levelsFor(rootReal, parent);
  if (!levels) return undefined;
  const name = rel.slice(rel.lastIndexOf("/") + 1);
  if (isAlwaysSkipped(name)) return undefined;
  // Unknown kind (a path that may not exist): hidden if hidden either way.
  const asDir = isIgnored(levels, rel, true);
  const asFile = isIgnored(levels, rel, false);
  if (isDirectory === true ? asDir : isDirectory === false ? asFile : asDir || asFile) return undefined;
  return levels;
}

export interface SearchStart {
  /** Relative to the root, `/`-separated; "" for the root itself. */
  rel: string;
  isDirectory: boolean;
  /** The `.gitignore` rules that apply inside `rel` (a folder) or beside it (a file). */
  levels: IgnoreLevel[];
}

/**
 * Resolves the caller's `path` below `rootReal` (a real path): relative, no `..`, no NUL, not
 * hidden by `.gitignore` (checked before the path is even looked up, so refusals say nothing about
 * what exists there) and — after following symbolic links — still inside the root and not hidden.
 */
export async function resolveSearchPath(rootReal: string, path: string | undefined): Promise<SearchStart> {
  const raw = (path ?? "").replaceAll("\\", "/");
  if (raw.includes("\u0000")) throw new ToolError("path must not contain NUL characters");
  if (raw.startsWith("/") || win32.isAbsolute(raw) || /^[a-zA-Z]:/.test(raw))
    throw new ToolError(`path must be relative to the search root, like "src", not ${JSON.stringify(path)}`);
  const segments = raw.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) throw new ToolError('path must not contain ".." segments');
  const hidden = () => new ToolError("path is excluded from searching (.gitignore, .git, node_modules or a .env file)");
  if (segments.length === 0) return { rel: "", isDirectory: true, levels: (await levelsFor(rootReal, ""))! };

  const asGiven = segments.join("/");
  if (!(await excluded(rootReal, asGiven, undefined))) throw hidden();
  let real: string;
  try {
    real = await realpath(join(rootReal, ...segments));
  } catch {
    throw new ToolError(`path not found: ${JSON.stringify(asGiven)}`);
  }
  if (!within(rootReal, real)) throw new ToolError("path leads outside the search root");
  const info = await stat(real);
  if (!info.isDirectory() && !info.isFile()) throw new ToolError("path is neither a folder nor a file");
  const rel = relative(rootReal, real).split(sep).join("/");
  if (rel === "") return { rel, isDirectory: true, levels: (await levelsFor(rootReal, ""))! };
  // Through a link inside the root, the real path may be hidden even if the given one is not.
  const levels = await excluded(rootReal, rel, info.isDirectory());
  if (!levels) throw hidden();
  if (!info.isDirectory()) return { rel, isDirectory: false, levels };
  const own = await loadIgnoreLevel(rootReal, rel);
  return { rel, isDirectory: true, levels: own ? [...levels, own] : levels };
}

/** Reads a candidate file: undefined when it is not a regular file, too large, binary or unreadable. */
export async function readTextFile(abs: string, maxBytes: number): Promise<string | undefined> {
  const file = await openRegularFile(abs);
  if (!file) return undefined;
  try {
    if (file.size > maxBytes) return undefined;
    const buffer = Buffer.allocUnsafe(file.size);
    const length = await readInto(file.handle, buffer);
    if (buffer.subarray(0, Math.min(length, BINARY_PROBE_BYTES)).includes(0)) return undefined;
    const text = buffer.toString("utf8", 0, length);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    return undefined;
  } finally {
    await file.handle.close().catch(() => {});
  }
}

let running = 0;
const waiting: (() => void)[] = [];

/** Waits for a search slot; false when `signal` aborts first. */
async function acquireSlot(signal: AbortSignal): Promise<boolean> {
  // Already stopped (cancelled, or its time spent resolving the path): an abort listener added now never fires.
  if (signal.aborted) return false;
  if (running < MAX_CONCURRENT_SEARCHES) {
    running++;
    return true;
  }
  return new Promise<boolean>((resolve) => {
    const onAbort = () => {
      const i = waiting.indexOf(grant);
      if (i >= 0) waiting.splice(i, 1);
      resolve(false);
    };
    const grant = () => {
      signal.removeEventListener("abort", onAbort);
      running++;
      resolve(true);
    };
    waiting.push(grant);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function releaseSlot(): void {
  running--;
  waiting.shift()?.();
}

export async function searchCodebase(options: SearchOptions): Promise<SearchResult> {
  const limit = options.limit ?? 50;
  const pattern = compilePattern(options.query, options.regex ?? false, options.caseSensitive ?? false);
  const stopper = new AbortController();
  const timer = setTimeout(() => stopper.abort(), options.timeoutMs);
  const onCancel = () => stopper.abort();
  options.signal?.addEventListener("abort", onCancel, { once: true });
  if (options.signal?.aborted) stopper.abort();
  const stop = stopper.signal;

  const matches: SearchMatch[] = [];
  let filesSearched = 0;
  let truncated = false;
  let slot = false;
  try {
    let rootReal: string;
    try {
      rootReal = await realpath(options.root);
    } catch (error) {
      throw new Error(`the search root ${options.root} cannot be opened: ${(error as Error).message}`);
    }
    const start = await resolveSearchPath(rootReal, options.path);

    slot = await acquireSlot(stop);
    if (!slot) return { matches, truncated: true, filesSearched };
    const scanner = startRegexScanner(pattern.source, pattern.flags);
    stop.addEventListener("abort", () => scanner.stop(), { once: true });
    const files = start.isDirectory
      ? walkFiles(rootReal, start.rel, start.levels, stop)
      : single({ rel: start.rel, abs: join(rootReal, start.rel) });

    // Files are read on this thread, several at once, and matched in the worker; results are taken in walk order.
    const queue: { rel: string; job: Promise<{ text: string; hits: LineHit[] } | undefined> }[] = [];
    let full = false;
    const settleOne = async () => {
      const head = queue.shift()!;
      const done = await head.job;
      if (!done) return; // binary, too large, unreadable
      filesSearched++;
      for (const hit of done.hits) {
        if (matches.length >= limit) {
          full = true; // one more than asked for: there is more
          return;
        }
        matches.push(toMatch(head.rel, done.text, hit));
      }
    };
    let lastPosted: Promise<unknown> = Promise.resolve();
    try {
      let read = 0;
      for await (const file of files) {
        if (stop.aborted || full) break;
        if (read >= options.maxFiles) {
          truncated = true;
          break;
        }
        read++;
        // Read now; hand to the worker in walk order (after the previous file), so that when a
        // pattern hangs on one file, every file before it has been matched.
        const posted = Promise.all([readTextFile(file.abs, options.maxFileBytes), lastPosted]).then(([text]) =>
          text === undefined ? undefined : { text, hits: scanner.scan(text, limit + 1) },
        );
        lastPosted = posted.catch(() => {});
        const job = posted.then(async (p) => p && { text: p.text, hits: await p.hits });
        job.catch(() => {}); // awaited in order below; a stop may reject it first
        queue.push({ rel: file.rel, job });
        while (!full && queue.length >= READ_AHEAD) await settleOne();
      }
      while (!full && !stop.aborted && queue.length > 0) await settleOne();
    } catch (error) {
      if (!(error instanceof ScannerStoppedError)) throw error;
    } finally {
      scanner.release();
    }
    if (full || stop.aborted) truncated = true;
    return { matches, truncated, filesSearched };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCancel);
    if (slot) releaseSlot();
  }
}

async function* single<T>(value: T): AsyncGenerator<T> {
  yield value;
}
