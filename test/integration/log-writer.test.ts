import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, REDACT } from "../../src/log.js";
import { LineWriter } from "../../src/log-writer.js";
import { authYaml, placeholder } from "./auth/support.js";

const CHILD = fileURLToPath(new URL("../fixtures/log-writer/child.ts", import.meta.url));
const LOGGER_CHILD = fileURLToPath(new URL("../fixtures/log-writer/logger-child.ts", import.meta.url));
const SERVER_LOGGER_CHILD = fileURLToPath(new URL("../fixtures/log-writer/server-logger-child.ts", import.meta.url));
const HEAP_CHILD = fileURLToPath(new URL("../fixtures/log-writer/heap-child.ts", import.meta.url));

/**
 * Runs a fixture script under tsx with stdout a pipe that is not read for `stallMs`; resolves with
 * its exit code and what it wrote.
 */
function runScript(script: string, args: string[], stallMs = 0) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
      child.stdout.resume();
    }, stallMs);
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the child did not finish"));
    }, 25_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr });
    });
  });
}

/** The child writer (test/fixtures/log-writer/child.ts). */
const runChild = (lines: number, how: "flush" | "exit" | "later", stallMs: number) =>
  runScript(CHILD, [String(lines), how], stallMs);

function numbers(text: string): number[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { i: number }).i);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("LineWriter (the logger's destination)", () => {
  // Lines held back by a full pipe were kept as pino builds them, trees of concatenated pieces: a
  // stalled reader cost ~6 bytes of heap per character held (96 MB for the 16 Mi allowed).
  it("lines a full pipe holds back cost about a byte of heap per character", async () => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", HEAP_CHILD, "40000"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pause(); // never read: the pipe stays full
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise((resolve) => child.on("close", resolve));
    const { chars, heapBytes } = JSON.parse(stderr.trim().split("\n").at(-1) as string) as Record<string, number>;
    expect(chars).toBeGreaterThan(5_000_000);
    expect((heapBytes as number) / (chars as number)).toBeLessThan(2);
  }, 30_000);

  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("writes every line once, in order, when lines arrive faster than the file takes them", async () => {
    dir = mkdtempSync(join(tmpdir(), "toolgate-lines-"));
    const file = join(dir, "log");
    const fd = openSync(file, "w");
    const writer = new LineWriter(fd);
    // The first line starts a write; the rest arrive while it is under way and go out joined.
    for (let i = 0; i < 5_000; i++) writer.write(`{"i":${i},"text":"é ✓ ${"y".repeat(i % 50)}"}\n`);
    await new Promise<void>((resolve) => writer.flush(() => resolve()));
    closeSync(fd);
    const text = readFileSync(file, "utf8");
    expect(numbers(text)).toEqual(range(5_000));
    expect(text).toContain('"text":"é ✓ yyy"');
  });

  it("flush calls back at once when nothing is being written", async () => {
    dir = mkdtempSync(join(tmpdir(), "toolgate-lines-"));
    const fd = openSync(join(dir, "log"), "w");
    const writer = new LineWriter(fd);
    let called = false;
    writer.flush(() => {
      called = true;
    });
    expect(called).toBe(true);
    closeSync(fd);
  });

  // 3,000 lines of ~1 KiB: ~3 MiB into a 64 KiB pipe nobody reads for a while.
  it.each([
    ["a full non-blocking pipe (EAGAIN, partial writes) loses and reorders nothing", "flush", 400],
    ["at exit, what is still pending is written (waiting for a full pipe)", "exit", 400],
    ["at exit, a batch waiting to be tried again after EAGAIN is written before the pending lines", "later", 600],
  ] as const)("%s", async (_name, how, stallMs) => {
    const run = await runChild(3_000, how, stallMs);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(numbers(run.stdout)).toEqual(range(3_000));
  });

  it("a reader that went away (EPIPE) stops the writer with one line on stderr, not a crash", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, "3000", "flush"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Read the first chunk, then close our end: the child's next writes fail with EPIPE.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(stderr).toMatch(/^toolgate: writing the log failed \(EPIPE\); later log lines are dropped\n$/);
  });
});

/**
 * src/log.ts REDACT: the paths that may hold a credential. One canary per path; every one must come
 * out as "[redacted]" through each of the logger's outputs. (With the list emptied, every test passed.)
 */
describe("createLogger: credentials never reach a log line", () => {
  const SECRETS = {
    req: {
      headers: {
        authorization: "Bearer CANARY-req-authorization",
        cookie: "sid=CANARY-req-cookie",
        "x-api-key": "CANARY-req-x-api-key",
        "user-agent": "kept-user-agent",
      },
    },
    headers: { authorization: "Bearer CANARY-headers-authorization", "x-api-key": "CANARY-headers-x-api-key" },
    token: "CANARY-token",
    accessToken: "CANARY-accessToken",
    apiKey: "CANARY-apiKey",
    tool: "kept-tool",
  };
  const R = "[redacted]";
  const REDACTED = {
    req: { headers: { authorization: R, cookie: R, "x-api-key": R, "user-agent": "kept-user-agent" } },
    headers: { authorization: R, "x-api-key": R },
    token: R,
    accessToken: R,
    apiKey: R,
    tool: "kept-tool",
  };

  it.each([true, false])("production %s, to a given destination: every credential path is [redacted]", (production) => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "info",
      production,
      destination: { write: (l: string) => void lines.push(l) },
    });
    logger.info(structuredClone(SECRETS), "request received");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("CANARY");
    expect(JSON.parse(lines[0] as string)).toMatchObject({ ...REDACTED, msg: "request received", service: "toolgate" });
  });

  /** Runs test/fixtures/log-writer/logger-child.ts: createLogger with no destination (stdout). */
  const runLoggerChild = (mode: "production" | "development") =>
    runScript(LOGGER_CHILD, [mode, JSON.stringify(SECRETS)]);

  it("production, on stdout (JSON lines): every credential path is [redacted]", async () => {
    const run = await runLoggerChild("production");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("CANARY");
    expect(JSON.parse(run.stdout)).toMatchObject(REDACTED);
  });

  it("development, pretty-printed (pino-pretty): no credential, [redacted] in each place", async () => {
    const run = await runLoggerChild("development");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("request received");
    expect(run.stdout).toContain("kept-user-agent");
    expect(run.stdout).not.toContain("CANARY");
    expect(run.stdout.split(R)).toHaveLength(8 + 1);
  });
});

/**
 * auth.yaml's `apiKeys.header` (here X-Tenant-Key) carries a key as X-API-Key does: redacted at the
 * same two paths. The server makes its logger once auth.yaml is read, with that header
 * (createLogger's credentialHeaders).
 */
describe("a custom API key header (apiKeys.header) never reaches a log line", () => {
  const SECRETS = {
    req: {
      headers: {
        "x-tenant-key": "CANARY-req-x-tenant-key",
        authorization: "Bearer CANARY-req-authorization",
        cookie: "sid=CANARY-req-cookie",
        "x-api-key": "CANARY-req-x-api-key",
        "user-agent": "kept-user-agent",
      },
    },
    headers: { "x-tenant-key": "CANARY-headers-x-tenant-key", "x-api-key": "CANARY-headers-x-api-key" },
    apiKey: "CANARY-apiKey",
    tool: "kept-tool",
  };
  const R = "[redacted]";
  const REDACTED = {
    req: {
      headers: { "x-tenant-key": R, authorization: R, cookie: R, "x-api-key": R, "user-agent": "kept-user-agent" },
    },
    headers: { "x-tenant-key": R, "x-api-key": R },
    apiKey: R,
    tool: "kept-tool",
  };

  const logTo = (lines: string[], credentialHeaders?: string[]) =>
    createLogger({
      level: "info",
      production: true,
      destination: { write: (l: string) => void lines.push(l) },
      ...(credentialHeaders ? { credentialHeaders } : {}),
    });

  it("createLogger with credentialHeaders: the header is redacted like x-api-key, REDACT's paths still are", () => {
    const lines: string[] = [];
    // without it, the header's value is written: what this guards against
    logTo(lines).info(structuredClone(SECRETS), "request received");
    expect(lines[0]).toContain("CANARY-req-x-tenant-key");
    logTo(lines, ["X-Tenant-Key"]).info(structuredClone(SECRETS), "request received");
    expect(lines[1]).not.toContain("CANARY");
    expect(JSON.parse(lines[1] as string)).toMatchObject({ ...REDACTED, msg: "request received", service: "toolgate" });
  });

  it("a header REDACT names already adds nothing", () => {
    const lines: string[] = [];
    logTo(lines, ["X-API-Key", "authorization"]).info(structuredClone(SECRETS), "request received");
    expect(REDACT).toContain('req.headers["x-api-key"]');
    expect(JSON.parse(lines[0] as string).req.headers).toMatchObject({ "x-api-key": R, authorization: R });
    expect(lines[0]).toContain("CANARY-req-x-tenant-key");
  });

  it("values JSON.stringify cannot write (a BigInt, a cycle) are written as without the header: pino's safe form", () => {
    const awkward = () => {
      const cycle: Record<string, unknown> = { name: "loop" };
      cycle.self = cycle;
      return { req: { method: "POST", bytes: 12n, headers: { "x-tenant-key": "CANARY-x" } }, data: cycle };
    };
    const plain: string[] = [];
    const custom: string[] = [];
    logTo(plain).info(awkward(), "odd values");
    logTo(custom, ["X-Tenant-Key"]).info(awkward(), "odd values");
    const [a, b] = [JSON.parse(plain[0] as string), JSON.parse(custom[0] as string)];
    expect(b.req).toEqual({ method: "POST", bytes: 12, headers: { "x-tenant-key": R } });
    expect(b.data).toEqual(a.data);
    expect(a.data).toEqual({ name: "loop", self: "[Circular]" });
  });

  it("the server's own logger, with auth.yaml's apiKeys.header: X-Tenant-Key (mode api-key), on stdout", async () => {
    const auth = authYaml({
      mode: "api-key",
      apiKeys: {
        header: "X-Tenant-Key",
        keys: [{ name: "ci", key: placeholder("TENANT_KEY"), scopes: "search.read" }],
      },
    });
    const run = await runScript(SERVER_LOGGER_CHILD, [auth, JSON.stringify(SECRETS)]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.msg)).toContain("toolgate is listening");
    expect(run.stdout).not.toContain("CANARY");
    expect(lines.find((l) => l.msg === "request received")).toMatchObject(REDACTED);
  });
});
