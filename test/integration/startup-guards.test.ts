/**
 * Startup settings that guard the server: the Host and Origin checks (DNS-rebinding and browser-origin
 * protection) — their defaults for every kind of bind address, the resource URL's host accepted
 * wherever it comes from, a check set off on purpose not turning a malformed Host into a 500 — and
 * the warning for a secret written into auth.yaml.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { project } from "../../generated/project.js";
import { loadEnvFile } from "../../src/config/env-file.js";
import { EnvError, loadServerConfig } from "../../src/config/server-config.js";
import { startServer } from "../../src/server.js";
import {
  type AuthTestServer,
  authYaml,
  placeholder,
  startAuthServer,
  useTemporaryToolFolders,
} from "./auth/support.js";

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

describe("defaults of ALLOWED_HOSTS and ALLOWED_ORIGINS", () => {
  it.each([
    ["127.0.0.1", LOOPBACK],
    ["::1", LOOPBACK],
    ["localhost", LOOPBACK],
    // every interface includes loopback; other names need MCP_RESOURCE_URL or ALLOWED_HOSTS
    ["0.0.0.0", LOOPBACK],
    ["::", LOOPBACK],
    ["10.1.2.3", ["10.1.2.3"]],
    ["fd00::5", ["[fd00::5]"]],
    // as a Host header's host compares after URL parsing: lower case, IPv6 compressed
    ["2001:DB8:0::1", ["[2001:db8::1]"]],
    ["MCP.Internal", ["mcp.internal"]],
    ["127.0.0.2", [...LOOPBACK, "127.0.0.2"]],
  ])("HOST=%s → %j (never empty: the checks are on)", (host, expected) => {
    const config = loadServerConfig({ HOST: host });
    expect(config.allowedHosts).toEqual(expected);
    expect(config.allowedOrigins).toEqual(expected);
  });

  it("MCP_RESOURCE_URL's host is added; a list set explicitly is taken as it is, empty included", () => {
    expect(loadServerConfig({ HOST: "0.0.0.0", MCP_RESOURCE_URL: "https://mcp.example.com/mcp" }).allowedHosts).toEqual(
      [...LOOPBACK, "mcp.example.com"],
    );
    const explicit = loadServerConfig({ HOST: "0.0.0.0", ALLOWED_HOSTS: "a.example, b.example", ALLOWED_ORIGINS: "" });
    expect(explicit.allowedHosts).toEqual(["a.example", "b.example"]);
    expect(explicit.allowedOrigins).toEqual([]);
  });
});

describe("KEEP_ALIVE_TIMEOUT_MS", () => {
  // Behind a balancer that keeps idle connections longer than node's 5 s (an ALB: 60 s), the server
  // closing one as the balancer sends on it is a 502; the setting was not there to raise.
  it("sets how long an idle keep-alive connection stays open; default 5000, at least 1000", async () => {
    expect(loadServerConfig({}).keepAliveTimeoutMs).toBe(5_000);
    expect(loadServerConfig({ KEEP_ALIVE_TIMEOUT_MS: "65000" }).keepAliveTimeoutMs).toBe(65_000);
    expect(() => loadServerConfig({ KEEP_ALIVE_TIMEOUT_MS: "999" })).toThrow(EnvError);
    const server = await startServer({
      project,
      env: { AUTH_MODE: "anonymous", KEEP_ALIVE_TIMEOUT_MS: "65000" },
      server: { port: 0, host: "127.0.0.1" },
      logger: pino({ level: "silent" }),
    });
    try {
      expect(server.httpServer.keepAliveTimeout).toBe(65_000);
    } finally {
      await server.close();
    }
  });
});

/** A request through node:http, which lets the test send any Host header. */
function send(server: AuthTestServer, method: string, host: string, body?: string) {
  const url = new URL(server.url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: "/mcp",
        headers: {
          host,
          accept: "application/json, text/event-stream",
          "content-type": "application/json",
          "mcp-protocol-version": "2025-11-25",
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const toolsList = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });

describe("at run time", () => {
  useTemporaryToolFolders();
  let fromAuthYaml: AuthTestServer;
  let checkOff: AuthTestServer;
  beforeAll(async () => {
    [fromAuthYaml, checkOff] = await Promise.all([
      // `resource` written in auth.yaml itself, not through MCP_RESOURCE_URL
      startAuthServer({
        env: { AUTH_MODE: "anonymous" },
        authYaml: authYaml({ mode: "anonymous", resource: "https://mcp.example.com/tenant/mcp" }),
      }),
      startAuthServer({ env: { AUTH_MODE: "anonymous", ALLOWED_HOSTS: "", ALLOWED_ORIGINS: "" } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([fromAuthYaml, checkOff].map((s) => s?.stop()));
  });

  it("the host of auth.yaml's resource is accepted by default, as are the loopback names; others are 403", async () => {
    expect(fromAuthYaml.config.allowedHosts).toEqual([...LOOPBACK, "mcp.example.com"]);
    expect((await send(fromAuthYaml, "POST", "mcp.example.com", toolsList)).status).toBe(200);
    expect((await send(fromAuthYaml, "POST", `127.0.0.1:${fromAuthYaml.port}`, toolsList)).status).toBe(200);
    expect((await send(fromAuthYaml, "POST", "evil.example", toolsList)).status).toBe(403);
  });

  // The defaults take the resolved resource's host and MCP_RESOURCE_URL's, also when auth.yaml's
  // `resource` does not use that variable; a list given in options.server is taken as it is.
  it("MCP_RESOURCE_URL's host and a different auth.yaml resource's are both added; a list from options.server is kept", async () => {
    const dir = await mkdtemp(join(tmpdir(), "toolgate-hosts-"));
    const authFile = join(dir, "auth.yaml");
    await writeFile(authFile, authYaml({ mode: "anonymous", resource: "https://mcp.example.com/tenant/mcp" }));
    const start = (server: Record<string, unknown>) =>
      startServer({
        project,
        authFile,
        env: {
          AUTH_MODE: "anonymous",
          DATA_DIR: dir,
          HOST: "0.0.0.0",
          MCP_RESOURCE_URL: "https://other.example.net/mcp",
        },
        server: { port: 0, host: "127.0.0.1", ...server },
        logger: pino({ level: "silent" }),
      });
    try {
      const both = await start({});
      await both.close();
      expect(both.config.allowedHosts).toEqual([...LOOPBACK, "other.example.net", "mcp.example.com"]);
      expect(both.config.allowedOrigins).toEqual([...LOOPBACK, "other.example.net", "mcp.example.com"]);
      const given = await start({ allowedHosts: ["only.example"] });
      await given.close();
      expect(given.config.allowedHosts).toEqual(["only.example"]);
      expect(given.config.allowedOrigins).toEqual([...LOOPBACK, "other.example.net", "mcp.example.com"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("with the check set off, a malformed Host is answered like any other, never a 500", async () => {
    for (const host of ["a b", "a:b:c", "[::1"]) {
      for (const method of ["GET", "DELETE"]) {
        const res = await send(checkOff, method, host);
        expect(res.status, `${method} Host: ${host}`).toBeLessThan(500);
        expect(res.status, `${method} Host: ${host}`).toBeGreaterThanOrEqual(400);
      }
      expect((await send(checkOff, "POST", host, toolsList)).status).toBe(200);
    }
  });
});

/** A startup of the repository's project with one auth.yaml: its log lines, or why it refused to start. */
interface Startup {
  lines: { level: number; msg: string; [field: string]: unknown }[];
  error: unknown;
  port: string | undefined;
  file: string;
}

/**
 * Starts the repository's project with this auth.yaml (written into a temporary folder, which is
 * also DATA_DIR), stops it at once, and returns what it logged at info and above — or the error it
 * refused to start with.
 */
async function startOnce(auth: string, env: Record<string, string> = {}): Promise<Startup> {
  const dir = await mkdtemp(join(tmpdir(), "toolgate-startup-"));
  const file = join(dir, "auth.yaml");
  await writeFile(file, auth);
  const raw: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void raw.push(line) });
  const parsed = () => raw.map((line) => JSON.parse(line));
  try {
    const running = await startServer({
      project,
      authFile: file,
      env: { DATA_DIR: dir, ...env },
      server: { port: 0, host: "127.0.0.1" },
      logger,
    });
    const port = new URL(running.url).port;
    await running.close();
    return { lines: parsed(), error: undefined, port, file };
  } catch (error) {
    return { lines: parsed(), error, port: undefined, file };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const warningsOf = (startup: Startup) => startup.lines.filter((l) => l.level === 40).map((l) => l.msg);
const diagnosticsOf = (startup: Startup) =>
  (startup.error as { diagnostics?: { code: string; severity: string; message: string; line: number }[] })?.diagnostics;

describe("an auth file that does not declare a scope a tool needs", () => {
  // What npm run generate refuses (TOOLS010), met at startup when auth.yaml changed since or another
  // file is given: the tool could never be called (the development server grants no such scope).
  const shipped = parseYaml(authYaml({})) as { scopes: Record<string, string> };
  const without = (...names: string[]) =>
    Object.fromEntries(Object.entries(shipped.scopes).filter(([name]) => !names.includes(name)));

  it("refuses to start, naming each scope and the tools that need it", async () => {
    const startup = await startOnce(stringifyYaml({ scopes: without("docs.write"), mode: "optional" }));
    expect(String(startup.error)).toBe(
      `Error: ${startup.file} does not declare the scope "docs.write" (needed by docs.create): add it under scopes: in ${startup.file}. npm run generate checks this against auth.yaml (TOOLS010)`,
    );
    expect(startup.port).toBeUndefined();
  });

  it("in mode anonymous, where no scope is served, it starts", async () => {
    const startup = await startOnce(stringifyYaml({ scopes: without("docs.write", "memory.read"), mode: "anonymous" }));
    expect(startup.error).toBeUndefined();
  });
});

describe("AUTH_CONFIG_FILE", () => {
  it("empty counts as unset (auth.yaml); a missing file is named with the variable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "toolgate-authfile-"));
    const start = (env: Record<string, string>) =>
      startServer({
        project,
        env: { DATA_DIR: dir, AUTH_MODE: "anonymous", ...env },
        server: { port: 0, host: "127.0.0.1" },
        logger: pino({ level: "silent" }),
      });
    try {
      const running = await start({ AUTH_CONFIG_FILE: "" });
      await running.close();
      await expect(start({ AUTH_CONFIG_FILE: join(dir, "nope.yaml") })).rejects.toThrow(
        `the auth configuration file ${join(dir, "nope.yaml")} (AUTH_CONFIG_FILE) does not exist (the working directory is ${process.cwd()})`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a secret written into auth.yaml (AUTH012)", () => {
  it("is logged as a warning at startup, with its position and never its value", async () => {
    const KEY = "tgk_literal_key_in_the_file_42";
    const startup = await startOnce(
      authYaml({ mode: "api-key", apiKeys: { keys: [{ name: "ci", key: KEY, scopes: "search.read" }] } }),
    );
    expect(startup.error).toBeUndefined();
    expect(warningsOf(startup)).toContainEqual(
      expect.stringMatching(/^.*auth\.yaml:\d+:\d+: warning AUTH012: key is written in the file/),
    );
    // Where the code is explained, as the refusals print it.
    expect(startup.lines.find((l) => l.level === 40 && /AUTH012/.test(l.msg))).toMatchObject({
      code: "AUTH012",
      see: "docs/diagnostics.md#auth012",
    });
    expect(JSON.stringify(startup.lines)).not.toContain(KEY);
  });
});

describe("a secret from the default of its placeholder (AUTH012)", () => {
  const KEY = "tgk_devdefault0123456789";
  const auth = authYaml({
    mode: "api-key",
    resource: "https://mcp.example.com/mcp",
    apiKeys: { keys: [{ name: "dev", key: placeholder(`MCP_API_KEY:-${KEY}`), scopes: "search.read" }] },
  });

  it("is logged as a warning outside production, never with its value; set from the environment it is not", async () => {
    const startup = await startOnce(auth);
    expect(warningsOf(startup)).toContainEqual(
      expect.stringMatching(/auth\.yaml:\d+:\d+: warning AUTH012: key comes from the default of its/),
    );
    expect(JSON.stringify(startup.lines)).not.toContain(KEY);
    const fromEnv = await startOnce(auth, { MCP_API_KEY: "tgk_from_the_environment_0123" });
    expect(JSON.stringify(fromEnv.lines)).not.toContain("AUTH012");
  });

  it("refuses to start in production", async () => {
    const startup = await startOnce(auth, { NODE_ENV: "production" });
    const diagnostics = diagnosticsOf(startup);
    expect(diagnostics?.map((d) => `${d.severity} ${d.code}`)).toEqual(["error AUTH012"]);
    expect(JSON.stringify(diagnostics) + String(startup.error)).not.toContain(KEY);
  });
});

describe("the development authorization server where it must not run (AUTH013)", () => {
  it("`developmentServer.enabled: true` with an issuer configured refuses to start", async () => {
    const startup = await startOnce(
      authYaml({
        mode: "oauth2",
        developmentServer: { enabled: true },
        authorizationServers: [{ type: "auth0", domain: "tenant.example.auth0.com" }],
      }),
    );
    expect(diagnosticsOf(startup)).toEqual([expect.objectContaining({ code: "AUTH013", severity: "error" })]);
  });

  it.each(["api-key", "anonymous"] as const)(
    "`developmentServer.enabled: true` in production is AUTH013 at its position (mode %s)",
    async (mode) => {
      const startup = await startOnce(
        authYaml({
          mode,
          resource: "https://mcp.example.com/mcp",
          developmentServer: { enabled: true },
          ...(mode === "api-key" ? { apiKeys: { keys: [{ name: "ci", key: placeholder("CI_KEY") }] } } : {}),
        }),
        { NODE_ENV: "production", CI_KEY: "k".repeat(32) },
      );
      expect(diagnosticsOf(startup)).toEqual([
        expect.objectContaining({
          code: "AUTH013",
          severity: "error",
          message: expect.stringContaining("NODE_ENV is production"),
          line: expect.any(Number),
        }),
      ]);
    },
  );

  it("its startup line tells how to get a token from this server: the script's --url when not the default", async () => {
    const startup = await startOnce(authYaml({ mode: "oauth2" }));
    const line = startup.lines.find((l) => l.msg.startsWith("DEVELOPMENT authorization server"));
    expect(line?.getAToken).toBe(`npm run token -- --url http://127.0.0.1:${startup.port}`);
  });
});

describe("TRUST_PROXY", () => {
  it.each([
    [undefined, false],
    ["", false],
    ["false", false],
    ["true", true],
    ["2", 2],
    ["loopback", "loopback"],
    [
      "10.0.0.1, 10.0.0.0/8,loopback,fd00::/8,uniquelocal,linklocal",
      "10.0.0.1,10.0.0.0/8,loopback,fd00::/8,uniquelocal,linklocal",
    ],
    // an IPv4 netmask, as proxy-addr (Express's trust proxy) takes it
    ["10.0.0.0/255.0.0.0, loopback", "10.0.0.0/255.0.0.0,loopback"],
  ])("%j → %j", (value, expected) => {
    expect(loadServerConfig(value === undefined ? {} : { TRUST_PROXY: value }).trustProxy).toEqual(expected);
  });

  it("every accepted list is one Express itself accepts", () => {
    const trust = loadServerConfig({ TRUST_PROXY: "10.0.0.0/255.0.0.0,192.168.0.0/16,fd00::/8,loopback" }).trustProxy;
    expect(() => express().set("trust proxy", trust)).not.toThrow();
  });

  it.each(["yes", "on", "10.0.0.1,yes", "10.0.0.0/33", "::1/129", "10.0.0.1/8/2", "10.0.0.", "loopback,", "1000"])(
    "%j is refused naming the variable",
    (value) => {
      expect(() => loadServerConfig({ TRUST_PROXY: value })).toThrow(EnvError);
      expect(() => loadServerConfig({ TRUST_PROXY: value })).toThrow(/^environment variable TRUST_PROXY /);
    },
  );
});

describe(".env (loadEnvFile)", () => {
  it("fills unset variables, keeps set ones, and gives a variable set empty its .env value", async () => {
    const dir = await mkdtemp(join(tmpdir(), "toolgate-dotenv-"));
    const file = join(dir, ".env");
    await writeFile(
      file,
      'AUTH0_DOMAIN=tenant.eu.auth0.com\nPORT=3999\nLOG_LEVEL=debug\nEMPTY_TOO=\nHASH="tgk_a#b"\nCUT=tgk_a #comment\n',
    );
    try {
      const env: NodeJS.ProcessEnv = { AUTH0_DOMAIN: "", PORT: "4000", EMPTY_TOO: "" };
      expect(loadEnvFile(file, env)).toEqual({ emptyReplaced: ["AUTH0_DOMAIN"] });
      expect(env).toEqual({
        AUTH0_DOMAIN: "tenant.eu.auth0.com",
        PORT: "4000",
        LOG_LEVEL: "debug",
        EMPTY_TOO: "",
        HASH: "tgk_a#b",
        CUT: "tgk_a",
      });
      expect(() => loadEnvFile(join(dir, "missing.env"), {})).toThrow(expect.objectContaining({ code: "ENOENT" }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a line without '=', which Node's parser joins to the next line's name (the setting there was lost)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "toolgate-dotenv-"));
    const file = join(dir, ".env");
    await writeFile(file, 'PORT=3999\n# a comment\nLOG_LEVEL info\nAUTH_MODE=oauth2\nMULTI="a\nb"\n');
    try {
      const env: NodeJS.ProcessEnv = {};
      // Only the name the line starts with is quoted: what follows is likely a value, and a secret.
      const refusal = (line: number, name: string) =>
        `${file}:${line}: the line${name ? ` starting with ${name}` : ""} is not NAME=value: it sets nothing and can hide the setting on the line after it; fix or remove that line`;
      expect(() => loadEnvFile(file, env)).toThrow(refusal(3, "LOG_LEVEL"));
      const refuses = async (text: string, line: number, name: string) => {
        await writeFile(file, text);
        expect(() => loadEnvFile(file, env)).toThrow(refusal(line, name));
      };
      expect(env).toEqual({});
      // last in the file, Node's parser skips it without a word
      await refuses("PORT=3999\nAUTH_MODE oauth2\n", 2, "AUTH_MODE");
      // an "=" further on (a base64 key's padding, a comment) made Node set a variable of the whole name
      await refuses("MCP_API_KEY dGhpcyBpcyBhIGtleQ==\n", 1, "MCP_API_KEY");
      await refuses("AUTH_MODE oauth2 # was =optional\n", 1, "AUTH_MODE");
      // a stray line that reads like a line of a quoted value elsewhere is still refused
      await refuses('CERT="a\nb"\nb\n', 3, "");
      // a secret on a line of its own (a value wrapped onto the next line) is not repeated
      await refuses('MCP_API_KEY=\n"tgk_wrapped_secret_value"\n', 2, "");
      await refuses("AUTH0_CLIENT_SECRET: s3cret-value\n", 1, "AUTH0_CLIENT_SECRET");
      // a wrapped or pasted key is one bare word that reads like a name: not quoted either
      for (const secret of ["q8ZxN3vL-secretPart_Two9f7Kd2Lm", "tgk_Q2h1bmtPZlNlY3JldEtleU1hdGVyaWFs"]) {
        await refuses(`MCP_API_KEY=\n${secret}\n`, 2, "");
      }
      expect(env).toEqual({});
      // a quoted value over two lines is not such a line
      await writeFile(file, 'MULTI="a\nb"\nAUTH_MODE=oauth2\n');
      loadEnvFile(file, env);
      expect(env).toEqual({ MULTI: "a\nb", AUTH_MODE: "oauth2" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("mode api-key: tools no key may call", () => {
  it("are named at startup with the scopes no key grants; tools some key may call are not", async () => {
    const startup = await startOnce(
      authYaml({
        mode: "api-key",
        apiKeys: {
          keys: [
            { name: "reader", key: placeholder("READER_KEY"), scopes: "search.read memory.read" },
            { name: "writer", key: placeholder("WRITER_KEY"), scopes: "docs.write" },
          ],
        },
      }),
      { READER_KEY: "r".repeat(24), WRITER_KEY: "w".repeat(24) },
    );
    const unreachable = startup.lines.filter((l) => l.level === 40 && l.msg.startsWith("no API key may call tool"));
    expect(unreachable.map((l) => [l.tool, l.missing])).toEqual([
      ["local_memory_store", ["memory.write"]],
      ["local_memory_delete", ["memory.delete"]],
    ]);
    expect(unreachable[0]?.msg).toContain(
      `no key in ${startup.file} grants "memory.write" (add it to the scopes of a key under apiKeys.keys)`,
    );
  });
});
