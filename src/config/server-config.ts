import { isIP } from "node:net";

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
  /** How long an idle keep-alive connection stays open (node's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
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

const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * An IP address, alone or with a range: a prefix length that fits it, or for IPv4 a netmask
 * (`10.0.0.0/255.0.0.0`) — the forms proxy-addr, behind Express's `trust proxy`, accepts.
 */
function isAddressOrRange(value: string): boolean {
  const [address = "", range, ...rest] = value.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (version === 4 && isIP(range) === 4) return true;
  return /^\d{1,3}$/.test(range) && Number(range) <= (version === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY as Express's `trust proxy` takes it: false (unset, empty, `false`), `true`, a hop count,
 * or a comma-separated list of IP addresses, CIDR ranges or IPv4 netmasks and the names loopback,
 * linklocal, uniquelocal. Anything else is refused here, naming the variable, not later by Express.
 */
function trustProxy(raw: string | undefined): boolean | number | string {
  if (raw === undefined || raw.trim() === "" || raw.trim() === "false") return false;
  const value = raw.trim();
  if (value === "true") return true;
  if (/^\d+$/.test(value)) {
    if (Number(value) > 100) throw new EnvError("TRUST_PROXY", `hop count must be at most 100, not ${value}`);
    return Number(value);
  }
  const entries = value.split(",").map((e) => e.trim());
  const bad = entries.find((e) => !PROXY_NAMES.has(e) && !isAddressOrRange(e));
  if (bad !== undefined)
    throw new EnvError(
      "TRUST_PROXY",
      `must be true, false, a hop count, or a comma-separated list of IP addresses, CIDR ranges (or IPv4 netmasks), loopback, linklocal and uniquelocal; "${bad.slice(0, 40)}" is none of these`,
    );
  return entries.join(",");
}

/** Binding to every interface: the loopback names reach the server too. */
const isWildcard = (host: string): boolean => host === "0.0.0.0" || host === "::" || host === "[::]";

/**
 * The Host names accepted when ALLOWED_HOSTS / ALLOWED_ORIGINS are not set: the loopback names when
 * bound to loopback or to every interface, else the address bound to; `loadServerConfig` adds the
 * hosts of MCP_RESOURCE_URL and of the resolved resource URL. Never empty, so the checks are on
 * unless a list is set empty on purpose.
 */
function defaultHosts(host: string): string[] {
  const loopback = ["localhost", "127.0.0.1", "[::1]"];
  if (isWildcard(host)) return loopback;
  // As a Host header names it after URL parsing (lower case, IPv6 bracketed and compressed): the
  // form the Host check compares with.
  let own = host;
  try {
    own = new URL(`http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}`).hostname;
  } catch {
    // not a host name a URL can carry: kept as given (the listen call reports it)
  }
  if (isLoopback(host)) return [...new Set([...loopback, own])];
  return [own];
}

/**
 * PORT (3000), HOST (127.0.0.1), ALLOWED_HOSTS / ALLOWED_ORIGINS (comma-separated; default: the
 * loopback names when bound to loopback or to every interface, else the address bound to, plus the
 * host of MCP_RESOURCE_URL and of `resource`), BODY_LIMIT (1mb), LOG_LEVEL (info), NODE_ENV,
 * SHUTDOWN_TIMEOUT_MS (10000), KEEP_ALIVE_TIMEOUT_MS (5000), TRUST_PROXY (false), DATA_DIR (data).
 *
 * `resource` is the resolved resource URL (auth.yaml's `resource`, often MCP_RESOURCE_URL): clients are
 * told to connect there. The server knows it only once auth.yaml is read, after it listens (the default
 * resource needs the port), so it calls this again with it; the one place the resource hosts join the
 * defaults.
 */
export function loadServerConfig(env: NodeJS.ProcessEnv = process.env, resource?: string): ServerConfig {
  const host = env.HOST || "127.0.0.1";
  const port = integer(env, "PORT", 3000, 0, 65535);
  const resourceHosts: string[] = [];
  if (env.MCP_RESOURCE_URL) {
    try {
      resourceHosts.push(new URL(env.MCP_RESOURCE_URL).hostname);
    } catch {
      throw new EnvError("MCP_RESOURCE_URL", "is not a URL");
    }
  }
  if (resource) resourceHosts.push(new URL(resource).hostname);
  const defaults = [...new Set([...defaultHosts(host), ...resourceHosts])];
  const bodyLimit = env.BODY_LIMIT || "1mb";
  if (!/^\d+(b|kb|mb)?$/i.test(bodyLimit))
    throw new EnvError("BODY_LIMIT", `must look like 512kb or 1mb, not "${bodyLimit.slice(0, 20)}"`);
  const logLevel = env.LOG_LEVEL || "info";
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel))
    throw new EnvError("LOG_LEVEL", "must be one of fatal, error, warn, info, debug, trace, silent");
  return {
    port,
    host,
    allowedHosts: env.ALLOWED_HOSTS !== undefined ? list(env.ALLOWED_HOSTS) : defaults,
    allowedOrigins: env.ALLOWED_ORIGINS !== undefined ? list(env.ALLOWED_ORIGINS) : defaults,
    bodyLimit,
    logLevel,
    production: env.NODE_ENV === "production",
    shutdownTimeoutMs: integer(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    keepAliveTimeoutMs: integer(env, "KEEP_ALIVE_TIMEOUT_MS", 5_000, 1_000, 600_000),
    trustProxy: trustProxy(env.TRUST_PROXY),
    dataDir: env.DATA_DIR || "data",
  };
}
