import { type ChildProcess, spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { project } from "../../generated/project.js";
import { startServer } from "../../src/server.js";
import { legacy, startTestServer } from "../helpers/server.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Runs `npm start` as a user would and waits for the "listening" log line. */
function npmStart(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  // npm is npm.cmd on Windows, which only a shell runs.
  const child = spawn("npm", ["start", "--silent"], {
    shell: process.platform === "win32",
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      for (const line of output.split("\n")) {
        if (!line.includes('"toolgate is listening"')) continue;
        clearTimeout(timer);
        resolve({ child, url: JSON.parse(line).url, output: () => output });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
}

describe("npm start", () => {
  // On Windows SIGTERM ends a process at once: no graceful shutdown to see.
  it.skipIf(process.platform === "win32")(
    "builds, serves /mcp, and shuts down on SIGTERM",
    async () => {
      const { child, url, output } = await npmStart({ AUTH_MODE: "anonymous" });
      const health = await fetch(url.replace(/\/mcp$/, "/healthz"));
      expect(health.status).toBe(200);
      const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
      child.kill("SIGTERM");
      await exited;
      // npm forwards the signal to the server; wait for the server itself to stop listening.
      for (
        let i = 0;
        i < 50 &&
        (await fetch(url).then(
          () => true,
          () => false,
        ));
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
      await expect(fetch(url)).rejects.toThrow();
      expect(output()).toContain("shutting down");
    },
    90_000,
  );

  it("refuses to start on an invalid auth.yaml setting, naming the file position and variable", async () => {
    await expect(npmStart({ AUTH_MODE: "sometimes" })).rejects.toThrow(
      /auth\.yaml:\d+:\d+: error SCHEMA004: mode must be one of "oauth2", "optional", "api-key", "anonymous", not the string "sometimes"/,
    );
  }, 90_000);

  it("says which port is taken", async () => {
    const first = await startTestServer();
    try {
      await expect(npmStart({ PORT: String(first.port) })).rejects.toThrow(new RegExp(`port ${first.port} is in use`));
    } finally {
      await first.close();
    }
  }, 90_000);

  it("names HOST when it cannot listen there (was getaddrinfo's bare error)", async () => {
    await expect(npmStart({ HOST: "no-such-host.invalid" })).rejects.toThrow(
      'toolgate: HOST="no-such-host.invalid" is not a name this machine can resolve',
    );
  }, 90_000);
});

/**
 * POSTs a JSON-RPC message in two parts, `pauseMs` apart (`between` runs in the pause, the second
 * part 100 ms after it): the request is in flight meanwhile.
 */
function postInTwoParts(
  url: URL,
  { message, headers }: { message: unknown; headers: Record<string, string> },
  options: { pauseMs: number; agent?: Agent; between?: () => void },
): Promise<{ status: number; connection: string | undefined; text: string }> {
  const body = JSON.stringify(message);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ...(options.agent ? { agent: options.agent } : {}),
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "content-length": Buffer.byteLength(body),
      },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, text }));
    });
    req.on("error", reject);
    req.write(body.slice(0, 10));
    setTimeout(() => {
      if (!options.between) return void req.end(body.slice(10));
      options.between();
      setTimeout(() => req.end(body.slice(10)), 100);
    }, options.pauseMs);
  });
}

describe("graceful shutdown", () => {
  it("lets a request in flight finish, then stops accepting", async () => {
    const server = await startTestServer();
    // Half the body now, half after shutdown has begun: the request is in flight during close().
    const response = postInTwoParts(
      server.mcpUrl,
      legacy("tools/call", { name: "codebase.search", arguments: { query: "x" } }),
      { pauseMs: 300 },
    );
    await new Promise((r) => setTimeout(r, 100));
    const closed = server.close();
    const result = await response;
    expect(result.status).toBe(200);
    expect(result.text).toContain('"structuredContent"');
    await closed;
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it("a keep-alive connection in use when shutdown begins is told Connection: close and gets no further request served", async () => {
    // Was: server.close() stopped new connections only, so a keep-alive client went on being served on
    // its connection until the shutdown timeout cut it off mid-request.
    const server = await startTestServer({ SHUTDOWN_TIMEOUT_MS: "30000" });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // the rest of the body once `during` ran: the request is in flight meanwhile
    const ping = (during?: () => void) =>
      postInTwoParts(server.mcpUrl, legacy("ping"), { agent, pauseMs: 50, between: during }).then(
        ({ status, connection }) => ({ status, connection }),
      );
    try {
      expect(await ping()).toEqual({ status: 200, connection: "keep-alive" });
      let closed: Promise<void> | undefined;
      const during = await ping(() => {
        closed = server.close();
      });
      expect(during).toEqual({ status: 200, connection: "close" });
      // the agent's next request needs a new connection, which the closed server refuses
      await expect(ping()).rejects.toThrow(/ECONNREFUSED/);
      await closed;
    } finally {
      agent.destroy();
    }
  }, 20_000);
});

describe("the startup line", () => {
  // With HOST=0.0.0.0 the resource names localhost while the line said 127.0.0.1: a client given that
  // URL could not sign in (clients compare it with the resource).
  it("names the resource as the URL when it is on this machine, the URL a local client must use", async () => {
    const lines: { msg: string; url?: string }[] = [];
    const server = await startServer({
      project,
      env: { AUTH_MODE: "optional", MCP_RESOURCE_URL: "http://localhost:3999/mcp", DATA_DIR: "test/.tmp/startup-line" },
      server: { port: 0, host: "127.0.0.1" },
      logger: pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
    });
    try {
      expect(lines.find((l) => l.msg === "toolgate is listening")?.url).toBe("http://localhost:3999/mcp");
    } finally {
      await server.close();
    }
  });
});

describe("what the log says of a shutdown", () => {
  it("a request still in flight at SHUTDOWN_TIMEOUT_MS is cut with a warning naming the setting; the end is logged", async () => {
    const lines: { level: number; msg: string; connections?: number }[] = [];
    const server = await startServer({
      project,
      env: { AUTH_MODE: "anonymous", SHUTDOWN_TIMEOUT_MS: "300" },
      server: { port: 0, host: "127.0.0.1" },
      logger: pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
    });
    // A request whose body never finishes: in flight until the timeout cuts it.
    const socket = connect(server.port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    const cut = new Promise((resolve) => socket.once("close", resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.close();
    await cut;
    const warning = lines.find((l) => l.msg.startsWith("shutdown timeout"));
    expect(warning).toMatchObject({ level: 40, connections: 1 });
    expect(warning?.msg).toContain("SHUTDOWN_TIMEOUT_MS");
    expect(lines.at(-1)?.msg).toBe("stopped");
  });
});
