/**
 * tools.yaml edited without `npm run generate`: the server would serve — and enforce — the tools as
 * generated before. At startup it compares tools.yaml with the digest generated/project.ts recorded:
 * a warning naming the file and the command; in production a refusal to start. CRLF line ends hash as
 * LF; no tools.yaml (a deployment of the built files only): no check. Also through src/main.ts, the
 * entry `npm start` runs, and not under `npm run dev` (which regenerates itself).
 */
import { spawn } from "node:child_process";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { project } from "../../generated/project.js";
import { StaleProjectError, startServer } from "../../src/server.js";
import { REPO, readRepoFile } from "../helpers/temp-project.js";

const WARNING =
  "changed since the last npm run generate: the server serves the tools as generated then (descriptions, schemas, access rules); run npm run generate";

let dir: string;
let shipped: string;
/** The reviewer's edit: codebase.search loses `- type: noauth`, so it should need a token now. */
let edited: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "toolgate-stale-"));
  shipped = await readRepoFile("tools.yaml");
  edited = shipped.replace("    securitySchemes:\n      - type: noauth\n", "    securitySchemes:\n");
  expect(edited).not.toBe(shipped);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts the shipped project against `tools` written to a file (or no file), returns its warnings. */
async function start(tools: string | undefined, env: Record<string, string> = {}) {
  const toolsFile = join(dir, `tools-${Math.random().toString(36).slice(2)}.yaml`);
  if (tools !== undefined) await writeFile(toolsFile, tools);
  const lines: { level: number; msg: string }[] = [];
  const running = await startServer({
    project,
    toolsFile,
    env: { AUTH_MODE: "anonymous", DATA_DIR: dir, ...env },
    server: { port: 0, host: "127.0.0.1" },
    logger: pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
  });
  return { running, toolsFile, warnings: lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

describe("startServer({ toolsFile })", () => {
  it("tools.yaml as generated: no warning, also with CRLF line ends (a Windows checkout) or a BOM", async () => {
    for (const text of [shipped, shipped.replace(/\n/g, "\r\n"), `\ufeff${shipped}`]) {
      const { running, warnings } = await start(text);
      await running.close();
      expect(warnings.filter((w) => w.includes("npm run generate"))).toEqual([]);
    }
  });

  it("tools.yaml edited since: a warning naming the file and the command; the server still starts", async () => {
    const { running, toolsFile, warnings } = await start(edited);
    await running.close();
    expect(warnings).toContain(`${toolsFile} ${WARNING}`);
  });

  it("tools.yaml edited since, in production: refuses to start, saying why and what to run", async () => {
    const failure = await start(edited, {
      NODE_ENV: "production",
      MCP_RESOURCE_URL: "https://mcp.example.com/mcp",
    }).then(
      async ({ running }) => {
        await running.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StaleProjectError);
    expect((failure as Error).message).toMatch(
      /tools-\w+\.yaml changed since the last npm run generate: the server would enforce the tools and access rules generated then, not those .* declares, so it does not start in production; run npm run generate, then build and deploy again$/,
    );
  });

  it("no tools.yaml (only the built files deployed): no check, in production neither", async () => {
    const { running, warnings } = await start(undefined, {
      NODE_ENV: "production",
      MCP_RESOURCE_URL: "https://mcp.example.com/mcp",
    });
    await running.close();
    expect(warnings.filter((w) => w.includes("npm run generate"))).toEqual([]);
  });
});

/** Runs src/main.ts (what `npm start` runs, from source) in a folder holding `tools` and the shipped auth.yaml. */
async function runMain(tools: string, env: Record<string, string>, ipc = false) {
  const cwd = await mkdtemp(join(dir, "main-"));
  await writeFile(join(cwd, "tools.yaml"), tools);
  await copyFile(join(REPO, "auth.yaml"), join(cwd, "auth.yaml"));
  // tsx by its URL: the folder holds no node_modules to resolve it from.
  const tsx = import.meta.resolve("tsx");
  const child = spawn(process.execPath, ["--import", tsx, join(REPO, "src", "main.ts")], {
    cwd,
    env: {
      PATH: process.env.PATH,
      PORT: "0",
      HOST: "127.0.0.1",
      AUTH_MODE: "anonymous",
      DATA_DIR: join(cwd, "data"),
      LOG_LEVEL: "info",
      NODE_ENV: "test",
      ...env,
    },
    // fd 3: npm run dev's channel (scripts/dev.ts), when asked for; typed as the three it always has
    stdio: ["ignore", "pipe", "pipe", ipc ? "ipc" : "ignore"] as unknown as ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => {
    output += c;
  });
  child.stderr.on("data", (c: Buffer) => {
    output += c;
  });
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`src/main.ts neither listened nor exited:\n${output}`));
    }, 30_000);
    const done = (code: number | null) => {
      clearTimeout(timer);
      resolve({ code, output });
    };
    child.on("exit", done);
    child.stdout.on("data", () => {
      if (output.includes('"toolgate is listening"')) child.kill("SIGTERM");
    });
  });
}

describe("src/main.ts (npm start) reads tools.yaml from the project folder", () => {
  it("warns when it changed; in production exits 1 with the reason; under npm run dev it does not check", async () => {
    const warned = await runMain(edited, {});
    expect(warned.output).toContain(`tools.yaml ${WARNING}`);
    expect(warned.output).toContain('"toolgate is listening"');

    const refused = await runMain(edited, { NODE_ENV: "production", MCP_RESOURCE_URL: "https://mcp.example.com/mcp" });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(
      /^toolgate: tools\.yaml changed since the last npm run generate: .*npm run generate/m,
    );
    expect(refused.output).not.toContain("toolgate is listening");

    const underDev = await runMain(edited, { TOOLGATE_DEV: "1" }, true);
    expect(underDev.output).not.toContain("npm run generate");
    expect(underDev.output).toContain('"toolgate is listening"');

    // The variable alone (left in a deployment's environment) turns nothing off.
    const leftSet = await runMain(edited, {
      TOOLGATE_DEV: "1",
      NODE_ENV: "production",
      MCP_RESOURCE_URL: "https://mcp.example.com/mcp",
    });
    expect(leftSet.code).toBe(1);
    expect(leftSet.output).toMatch(/^toolgate: tools\.yaml changed since the last npm run generate/m);
    expect((await runMain(edited, { TOOLGATE_DEV: "1" })).output).toContain(`tools.yaml ${WARNING}`);
  }, 60_000);

  it("a configuration error exits 1 with its diagnostics and where each code is explained", async () => {
    const refused = await runMain(shipped, { AUTH_MODE: "oauth" });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(
      /^auth\.yaml:\d+:\d+: error SCHEMA004: mode must be one of .*\(did you mean "oauth2"\?\)$/m,
    );
    expect(refused.output).toMatch(
      /^Each code is explained in docs\/diagnostics\.md \(npm run generate -- --explain CODE\)\.$/m,
    );
    expect(refused.output).not.toContain("toolgate is listening");
  }, 60_000);
});
