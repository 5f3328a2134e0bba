/** Settings of the HTTP server itself, from environment variables, each with a default. */
export interface ServerConfig {
  port: number;
  host: string;
  /** Host header values accepted (DNS-rebinding protection); empty: no Host check. */
  allowedHosts: string[];
  /** Origin hostnames accepted when an Origin header is present. */
  allowedOrigins: string[];
  bodyLimit: string;
  logLevel: string;
  production: boolean;
  shutdownTimeoutMs: number;
  /** Express `trust proxy`, for X-Forwarded-* behind a load balancer. */
  trustProxy: boolean | number | string;
  dataDir: string;
}

export class EnvError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`environment variable ${variable} ${problem}`);
    this.name = "EnvError";
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
export const isLoopback = (host: string): boolean => LOOPBACK.has(host) || host.startsWith("127.");

const list = (v: string | undefined) => (v ?? "").split(/[\s,]+/).filter(Boolean);

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new EnvError(name, `must be an integer from ${min} to ${max}, not "${raw.slice(0, 20)}"`);
  return Number(raw);
}

/**
 * PORT (3000), HOST (127.0.0.1), ALLOWED_HOSTS / ALLOWED_ORIGINS (comma-separated; default: the
 * loopback names when bound to loopback, plus the host of MCP_RESOURCE_URL), BODY_LIMIT (1mb),
 * LOG_LEVEL (info), NODE_ENV, SHUTDOWN_TIMEOUT_MS (10000), TRUST_PROXY (false), DATA_DIR (data).
 */
export function loadServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const host = env.HOST || "127.0.0.1";
  const port = integer(env, "PORT", 3000, 0, 65535);
  let resourceHost: string | undefined;
  if (env.MCP_RESOURCE_URL) {
    try {
      resourceHost = new URL(env.MCP_RESOURCE_URL).hostname;
    } catch {
      throw new EnvError("MCP_RESOURCE_URL", "is not a URL");
    }
  }
  const loopbackNames = isLoopback(host) ? ["localhost", "127.0.0.1", "[::1]"] : [];
  const defaults = [...loopbackNames, ...(resourceHost ? [resourceHost] : [])];
  const bodyLimit = env.BODY_LIMIT || "1mb";
  if (!/^\d+(b|kb|mb)?$/i.test(bodyLimit))
    throw new EnvError("BODY_LIMIT", `must look like 512kb or 1mb, not "${bodyLimit.slice(0, 20)}"`);
  const logLevel = env.LOG_LEVEL || "info";
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel))
    throw new EnvError("LOG_LEVEL", "must be one of fatal, error, warn, info, debug, trace, silent");
  const trust = env.TRUST_PROXY;
  return {
    port,
    host,
    allowedHosts: env.ALLOWED_HOSTS !== undefined ? list(env.ALLOWED_HOSTS) : defaults,
    allowedOrigins: env.ALLOWED_ORIGINS !== undefined ? list(env.ALLOWED_ORIGINS) : defaults,
    bodyLimit,
    logLevel,
    production: env.NODE_ENV === "production",
    shutdownTimeoutMs: integer(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    trustProxy:
      trust === undefined || trust === "" || trust === "false"
        ? false
        : trust === "true"
          ? true
          : /^\d+$/.test(trust)
            ? Number(trust)
            : trust,
    dataDir: env.DATA_DIR || "data",
  };
}
