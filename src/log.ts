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
