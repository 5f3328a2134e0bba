import pino, { type Logger } from "pino";

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

/** JSON lines in production or when piped; human-readable in a terminal. */
export function createLogger(options: {
  level: string;
  production: boolean;
  pretty?: boolean;
  destination?: pino.DestinationStream;
}): Logger {
  const pretty = options.pretty ?? (!options.production && process.stdout.isTTY === true);
  const base = { level: options.level, redact: { paths: REDACT, censor: "[redacted]" }, base: { service: "toolgate" } };
  if (options.destination) return pino(base, options.destination);
  if (pretty)
    return pino({
      ...base,
      transport: {
        target: "pino-pretty",
        options: { colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname,service" },
      },
    });
  return pino(base);
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
 * merged in, and only when its level is enabled.
 */
export function lazyLogger(parent: Logger, bindings: Record<string, unknown>): RequestLogger {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (obj: object | string, msg?: string): void => {
      if (!parent.isLevelEnabled(level)) return;
      if (typeof obj === "string") parent[level](bindings, obj);
      else parent[level]({ ...bindings, ...obj }, msg);
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => lazyLogger(parent, { ...bindings, ...more }),
  };
}
