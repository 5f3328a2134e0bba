import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Logger } from "pino";
import { createAuthRuntime } from "./auth/index.js";
import { type AuthConfig, loadAuthConfig } from "./config/auth-config.js";
import { formatDiagnostic } from "./config/diagnostics.js";
import { loadServerConfig, type ServerConfig } from "./config/server-config.js";
import { isLoopbackHost } from "./dev-as/client-policy.js";
import { createApp } from "./http/app.js";
import { clientAddressOf } from "./http/client-address.js";
import { createLogger } from "./log.js";
import { createMcpEndpoint } from "./mcp/endpoint.js";
import { onParentExit } from "./parent-exit.js";
import { createToolCatalogue } from "./tools/catalogue.js";
import { type ToolProject, toolsFileState } from "./tools/project.js";

export interface StartOptions {
  /** The generated project to serve (`generated/project.ts`). */
  project: ToolProject;
  env?: NodeJS.ProcessEnv;
  /** Overrides of the environment-derived settings (tests use port 0). */
  server?: Partial<ServerConfig>;
  authFile?: string;
  /**
   * The tools.yaml `project` was generated from (`npm start`: `tools.yaml` in the working directory).
   * When given and present, a file that changed since is a warning at startup and, in production, a
   * refusal to start: the server would enforce the tools and access rules of the last generate, not
   * those the file declares. Absent (a deployment of the built files only), or not given: no check.
   */
  toolsFile?: string;
  /**
   * Used as given, its redaction its owner's. Without one the server makes its own (src/log.ts), which
   * never writes the credential headers (REDACT and auth.yaml's `apiKeys.header`) to a line.
   */
  logger?: Logger;
  /**
   * Serve every /mcp request through the SDK's `createMcpHandler` instead of toolgate's own
   * one-exchange transports (src/mcp/exchange.ts): the reference they are compared with in tests.
   */
  sdkTransportsOnly?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  auth: AuthConfig;
  config: ServerConfig;
  logger: Logger;
  httpServer: Server;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), then closes. */
  close(): Promise<void>;
}

/** The generated project does not match its tools.yaml, and NODE_ENV is production: startServer refuses. */
export class StaleProjectError extends Error {
  override readonly name = "StaleProjectError";
}

const packageVersion = (): string => {
  try {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
  } catch {
    return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version;
  }
};

/**
 * A tool whose scopes the auth file does not declare: what `npm run generate` refuses (TOOLS010), met
 * at startup when the auth file changed since, or is another one (AUTH_CONFIG_FILE). Refused, as
 * there: the development server never grants such a scope (the tool could never be called), and the
 * metadata and challenges would advertise a scope the catalogue does not describe.
 */
function refuseUndeclaredToolScopes(tools: readonly { name: string; scopes: readonly string[] }[], auth: AuthConfig) {
  const needers = new Map<string, string[]>();
  for (const tool of tools)
    for (const scope of tool.scopes)
      if (!Object.hasOwn(auth.scopes, scope)) needers.set(scope, [...(needers.get(scope) ?? []), tool.name]);
  if (needers.size === 0) return;
  const list = [...needers].map(([scope, names]) => `"${scope}" (needed by ${names.join(", ")})`).join(", ");
  throw new Error(
    `${auth.file} does not declare the scope${needers.size > 1 ? "s" : ""} ${list}: add ${needers.size > 1 ? "them" : "it"} under scopes: in ${auth.file}. npm run generate checks this against auth.yaml (TOOLS010)`,
  );
}

/** The auth file's text; a missing or unreadable one named in a sentence (and the variable, when it named it). */
function readAuthFile(file: string, fromVariable: boolean): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = `the auth configuration file ${file}${fromVariable ? " (AUTH_CONFIG_FILE)" : ""}`;
    if (code === "ENOENT") throw new Error(`${what} does not exist (the working directory is ${process.cwd()})`);
    throw new Error(`cannot read ${what}: ${code ?? (error as Error).message}`);
  }
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const serverMeta = options.project.server;
  const env = options.env ?? process.env;
  let config: ServerConfig = { ...loadServerConfig(env), ...options.server };
  const stale = options.toolsFile && toolsFileState(options.project, options.toolsFile) === "changed";
  if (stale && config.production)
    throw new StaleProjectError(
      `${options.toolsFile} changed since the last npm run generate: the server would enforce the tools and access rules generated then, not those ${options.toolsFile} declares, so it does not start in production; run npm run generate, then build and deploy again`,
    );

  // Listen first: the default resource URL needs the real port (PORT=0 in tests).
  // A proxy that keeps idle upstream connections longer than keepAliveTimeout races the server's
  // close and answers 502: KEEP_ALIVE_TIMEOUT_MS lets it be set above the proxy's idle timeout.
  const httpServer = createServer({
    requestTimeout: 60_000,
    headersTimeout: 20_000,
    keepAliveTimeout: config.keepAliveTimeoutMs,
  });
  // The open connections, for a shutdown to tell the answers in flight to close theirs (per
  // connection, not per request: nothing on a keep-alive connection's requests).
  const sockets = new Set<Socket>();
  httpServer.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  // Listening already (the origin of port 0 is known only now); until the app is ready, 503 (with a
  // request id, as every answer of the server has).
  const starting = (_req: IncomingMessage, res: ServerResponse) =>
    void res.writeHead(503, { "retry-after": "1", "x-request-id": randomUUID() }).end();
  httpServer.on("request", starting);
  let closeAuth: (() => Promise<void>) | undefined;
  try {
    // An empty AUTH_CONFIG_FILE counts as unset, as every variable does (README).
    const authFile = options.authFile ?? (env.AUTH_CONFIG_FILE || "auth.yaml");
    const auth = loadAuthConfig(
      authFile,
      { env, listen: { host: config.host, port }, production: config.production },
      readAuthFile(authFile, options.authFile === undefined && !!env.AUTH_CONFIG_FILE),
    );
    // Made once auth.yaml is read, so that a custom API key header is redacted like X-API-Key.
    const logger =
      options.logger ??
      createLogger({
        level: config.logLevel,
        production: config.production,
        credentialHeaders: [auth.apiKeys.header],
      });
    if (stale)
      logger.warn(
        `${options.toolsFile} changed since the last npm run generate: the server serves the tools as generated then (descriptions, schemas, access rules); run npm run generate`,
      );
    // Each with its code and where it is explained (the refusals print that line themselves: src/main.ts).
    for (const warning of auth.warnings)
      logger.warn(
        { code: warning.code, see: `docs/diagnostics.md#${warning.code.toLowerCase()}` },
        formatDiagnostic(warning),
      );
    // The Host and Origin defaults accept the resolved resource URL's host too; lists set explicitly
    // (environment or options.server) stay as they are.
    config = { ...loadServerConfig(env, auth.resource), ...options.server };
    const catalogue = createToolCatalogue(options.project, {
      anonymousOnly: auth.mode === "anonymous",
      scopeCatalogue: { file: auth.file, scopes: new Set(Object.keys(auth.scopes)) },
    });
    // Mode anonymous serves no scope: its catalogue needs none.
    if (auth.mode !== "anonymous") refuseUndeclaredToolScopes(catalogue.infos, auth);
    const authRuntime = await createAuthRuntime({
      config: auth,
      tools: catalogue.infos,
      logger,
      production: config.production,
      origin: new URL(auth.resource).origin,
      dataDir: config.dataDir,
      resourceName: serverMeta.name,
      clientAddress: clientAddressOf(config.trustProxy),
    });
    closeAuth = () => authRuntime.close();
    const endpoint = createMcpEndpoint({
      serverInfo: {
        name: serverMeta.name,
        version: serverMeta.version ?? packageVersion(),
        ...(serverMeta.title ? { title: serverMeta.title } : {}),
      },
      ...(serverMeta.instructions ? { instructions: serverMeta.instructions } : {}),
      catalogue,
      logger,
      maxRequestBodySize: 4 * 1024 * 1024,
      credentialHeaders: [auth.apiKeys.header],
      ...(options.sdkTransportsOnly ? { sdkTransportsOnly: true } : {}),
    });
    const { listener } = createApp({
      config,
      logger,
      endpoint,
      gate: authRuntime.gate,
      paramHeaders: (tool) => catalogue.paramHeaders(tool),
      requestHeaders: [
        auth.apiKeys.header,
        ...catalogue.infos.flatMap((tool) => catalogue.paramHeaders(tool.name).map((p) => p.header)),
      ],
      documents: authRuntime.documents,
      ...(authRuntime.fallback ? { fallback: authRuntime.fallback } : {}),
    });
    httpServer.off("request", starting);
    httpServer.on("request", listener);
    const host = config.host.includes(":") ? `[${config.host}]` : config.host;
    const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
    // The URL to give a local client is the resource when it is on this machine (clients compare the
    // two: with HOST=0.0.0.0 the resource names localhost, and a sign-in through 127.0.0.1 fails).
    const resourceUrl = URL.parse(auth.resource);
    const local = resourceUrl?.protocol === "http:" && isLoopbackHost(resourceUrl.hostname);
    logger.info(
      {
        url: local ? auth.resource : `${url}/mcp`,
        mode: auth.mode,
        tools: catalogue.size,
        resource: auth.resource,
        allowedHosts: config.allowedHosts,
      },
      "toolgate is listening",
    );
    const off = [
      ...(config.allowedHosts.length === 0 ? ["ALLOWED_HOSTS (the Host check: DNS-rebinding protection)"] : []),
      ...(config.allowedOrigins.length === 0 ? ["ALLOWED_ORIGINS (the Origin check: web pages of other sites)"] : []),
    ];
    if (off.length > 0) logger.warn(`set empty, so that check is off: ${off.join("; ")}`);

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        // server.close() stops new connections only: a keep-alive client went on sending requests on
        // its connection, served (and cut off at the shutdown timeout). From now on answers say
        // Connection: close and their connection ends with them (swapping listeners: nothing on the
        // hot path) — all but a stream the SDK's own transport opens with an explicit keep-alive,
        // whose connection the sweep below closes once it ends.
        httpServer.off("request", listener);
        httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
          res.shouldKeepAlive = false;
          listener(req, res);
        });
        // An answer being worked on now says it too, unless its headers are out (a stream): node keeps
        // a connection's current response as `_httpMessage` (internal; without it, the sweep below).
        for (const socket of sockets) {
          const current = (socket as { _httpMessage?: unknown })._httpMessage;
          if (current instanceof ServerResponse && !current.headersSent) current.shouldKeepAlive = false;
        }
        const done = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        // A connection whose answer was in flight (its headers perhaps sent already, with keep-alive)
        // turns idle when it ends: closed then, not a keep-alive timeout later.
        const sweep = setInterval(() => httpServer.closeIdleConnections(), 100);
        const timer = setTimeout(() => {
          // What is still open now is cut: said, so a client's error has its cause in the log.
          logger.warn(
            { connections: sockets.size, shutdownTimeoutMs: config.shutdownTimeoutMs },
            "shutdown timeout: closing the connections still open, requests in flight included (SHUTDOWN_TIMEOUT_MS)",
          );
          httpServer.closeAllConnections();
        }, config.shutdownTimeoutMs);
        await done;
        clearInterval(sweep);
        clearTimeout(timer);
        await endpoint.close();
        await authRuntime.close();
        logger.info("stopped");
      })());
    return { url, port, auth, config, logger, httpServer, close };
  } catch (error) {
    await closeAuth?.();
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    throw error;
  }
}

/**
 * Graceful stop on SIGTERM/SIGINT: in-flight requests finish, then the process exits 0; a second
 * signal exits at once with 1. For every entry point (npm start, the examples, the benchmark).
 *
 * With `parentDisconnect` and an IPC channel to a parent process (`npm run dev` spawns the server
 * with one), the channel closing — the parent died, even by SIGKILL — stops the server the same
 * graceful way; it does not count as a second signal. Without a channel (`npm start`) it does nothing.
 * With `parentPid` and no channel, the same when that process is no longer the parent (onParentExit):
 * under `npm start` it is the shell npm runs the script in, which a SIGTERM from npm ends (Debian's
 * and Ubuntu's sh does not pass it on) while the server would run on.
 */
export function stopOnSignals(
  running: Pick<RunningServer, "close"> & { logger?: Pick<Logger, "info"> },
  options: { parentDisconnect?: boolean; parentPid?: number } = {},
): void {
  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) process.exit(1);
    running.logger?.info({ signal }, "shutting down: finishing requests in flight");
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  const parentGone = (why: string) => {
    if (signals === 0) stop(why);
  };
  // process.connected: undefined without a channel, false once it closed (maybe while starting up).
  if (options.parentDisconnect && process.connected !== undefined) {
    if (process.connected) process.once("disconnect", () => parentGone("disconnect"));
    else parentGone("disconnect");
  } else if (options.parentPid !== undefined) onParentExit(options.parentPid, () => parentGone("parent exit"));
}
