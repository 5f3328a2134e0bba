import pino, { type Logger } from "pino";
import { lineWriter } from "./log-writer.js";

/** Paths that may hold credentials: never written to a log line. */
export const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  "headers.authorization",
  'headers["x-api-key"]',
  "token",
  "accessToken",
  "apiKey",
];

const CENSOR = "[redacted]";
/** The credential headers REDACT names (lower case, as node gives them). */
const REDACTED_HEADERS = new Set(["authorization", "x-api-key"]);

/**
 * REDACT, plus the same two paths (`req.headers[…]`, `headers[…]`) for each of these request headers
 * (lower case) that it does not name already: auth.yaml's API key header (`apiKeys.header`).
 */
function redactPaths(credentialHeaders: readonly string[]): string[] {
  const more = [...new Set(credentialHeaders.map((h) => h.toLowerCase()))].filter((h) => !REDACTED_HEADERS.has(h));
  return [...REDACT, ...more.flatMap((h) => [`req.headers[${JSON.stringify(h)}]`, `headers[${JSON.stringify(h)}]`])];
}

/**
 * JSON lines in production or when piped; human-readable in a terminal. `credentialHeaders` (auth.yaml's
 * `apiKeys.header`) are redacted where REDACT redacts `x-api-key`. One logger with the whole list, made
 * once that header is known: a pino child with a `redact` of its own serialises a value JSON.stringify
 * cannot (a BigInt, a cycle) as a placeholder instead of pino's safe form (pino 10.4: the child's
 * stringify is not bound to the safe fallback).
 */
export function createLogger(options: {
  level: string;
  production: boolean;
  pretty?: boolean;
  destination?: pino.DestinationStream;
  credentialHeaders?: readonly string[];
}): Logger {
  const pretty = options.pretty ?? (!options.production && process.stdout.isTTY === true);
  const paths = redactPaths(options.credentialHeaders ?? []);
  const base = { level: options.level, redact: { paths, censor: CENSOR }, base: { service: "toolgate" } };
  if (options.destination) return pino(base, options.destination);
  if (pretty)
    return pino({
      ...base,
      transport: {
        target: "pino-pretty",
        options: { colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname,service" },
      },
    });
  // Not pino's default destination: see LineWriter for why.
  return pino(base, lineWriter(1));
}

/** A logger with bindings, made into a pino child only when something is logged through it. */
export interface RequestLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: object): RequestLogger;
}

/**
 * Per-request loggers: a pino child (bindings serialised) on every request costs more than the
 * one audit line most requests write, so a line is written through the parent with the bindings
 * merged in, and only when its level is enabled. A class, not a literal of closures: two are made
 * per tools/call (the request's, the tool's), and most write nothing.
 */
class LazyLogger implements RequestLogger {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;
  /** Bindings added by `child()`, merged only when a line is written. */
  readonly #more: object | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>, more?: object) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#more = more;
  }

  #write(level: "debug" | "info" | "warn" | "error", obj: object | string, msg?: string): void {
    const parent = this.#parent;
    if (!parent.isLevelEnabled(level)) return;
    const bindings = this.#more ? { ...this.#bindings, ...this.#more } : this.#bindings;
    if (typeof obj === "string") parent[level](bindings, obj);
    else parent[level]({ ...bindings, ...obj }, msg);
  }

  debug(obj: object | string, msg?: string): void {
    this.#write("debug", obj, msg);
  }
  info(obj: object | string, msg?: string): void {
    this.#write("info", obj, msg);
  }
  warn(obj: object | string, msg?: string): void {
    this.#write("warn", obj, msg);
  }
  error(obj: object | string, msg?: string): void {
    this.#write("error", obj, msg);
  }
  child(bindings: object): RequestLogger {
    return new LazyLogger(this.#parent, this.#more ? { ...this.#bindings, ...this.#more } : this.#bindings, bindings);
  }
}

export function lazyLogger(parent: Logger, bindings: Record<string, unknown>): RequestLogger {
  return new LazyLogger(parent, bindings);
}
