/**
 * A handler file whose export is wrong — under `npm run dev` nothing type-checks it first — is
 * logged saying what is wrong and in which file, and its tool answers the generic internal error
 * with the request id; `npm run generate` is advised only when the handler file itself is missing.
 * Served from test/fixtures/projects/mistakes, in this process (vitest's module loader) and in a
 * server process of its own under tsx, as `npm run dev` runs one (Node's loader and errors).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../src/server.js";
import { modern, rpc } from "../helpers/server.js";
import { generatedFixtureProject, REPO } from "../helpers/temp-project.js";

type LogLine = { level?: number; msg?: string; tool?: string; err?: { message?: string } };

interface Served {
  mcpUrl: string;
  /** Error lines logged so far. */
  errors(): LogLine[];
  close(): Promise<void>;
}

/** The fixture project served in this process. */
async function inProcess(root: string, project: never): Promise<Served> {
  const lines: LogLine[] = [];
  const running = await startServer({
    project,
    authFile: join(root, "auth.yaml"),
    env: { DATA_DIR: join(root, "data") },
    server: { port: 0, host: "127.0.0.1" },
    logger: pino({ level: "error" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
  });
  return { mcpUrl: `${running.url}/mcp`, errors: () => [...lines], close: () => running.close() };
}

/** The fixture project served by `node --import tsx` in a process of its own; JSON log lines on stdout. */
async function underTsx(root: string): Promise<Served> {
  const script = join(root, "serve.ts");
  await writeFile(
    script,
    [
      `import { startServer } from ${JSON.stringify(join(REPO, "src", "server.ts"))};`,
      'import { project } from "./generated/project.ts";',
      'await startServer({ project, authFile: "auth.yaml", server: { port: 0, host: "127.0.0.1" } });',
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: root,
    env: { PATH: process.env.PATH, DATA_DIR: join(root, "data"), LOG_LEVEL: "info", NODE_ENV: "test" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => {
    output += c;
  });
  child.stderr!.on("data", (c: Buffer) => {
    output += c;
  });
  const lines = () =>
    output
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as LogLine & { url?: string });
  const end = Date.now() + 30_000;
  const listening = () => lines().find((l) => l.msg === "toolgate is listening")?.url;
  while (!listening()) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`the tsx server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = listening()!;
  return {
    mcpUrl: url,
    errors: () => lines().filter((l) => (l.level ?? 0) >= 50),
    close: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

describe.each([
  ["in process", inProcess],
  ["under tsx (npm run dev)", underTsx],
] as const)("handler files that get their export wrong, %s", (_where, serve) => {
  let root: string;
  let served: Served;
  beforeAll(async () => {
    const fixture = await generatedFixtureProject("mistakes");
    root = fixture.root;
    expect(fixture.diagnostics).toEqual([]);
    await rm(join(root, "src", "handlers", "greet.gone.ts"));
    served = await serve(root, fixture.project as never);
  });
  afterAll(async () => {
    await served?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  /**
   * Calls `tool`; returns the answer and the error lines logged meanwhile. A child process's log lines
   * arrive a moment after its answer (written in a later turn of its event loop): when one is
   * expected, waited for (a loaded machine can stall the child past any fixed wait), then 100 ms more
   * for any line after it.
   */
  async function call(tool: string, { errorExpected = true } = {}) {
    const before = served.errors().length;
    const { message, headers } = modern("tools/call", { name: tool, arguments: {} });
    const res = await rpc(served.mcpUrl, message, headers);
    const deadline = Date.now() + 10_000;
    while (errorExpected && served.errors().length === before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    return { result: res.body.result, logged: served.errors().slice(before) };
  }

  const internalError = (tool: string) =>
    new RegExp(`^Tool ${tool.replace(/\./g, "\\.")} failed with an internal error \\(request id [0-9a-f-]{36}\\)\\.$`);

  it.each([
    ["greet.hello", "it has no default export"],
    ["greet.other", 'it defines "docs.create"'],
    ["greet.plain", "its default export is a plain function (wrap it in defineHandler)"],
    ["greet.object", "its default export is not a handler (object)"],
  ])("%s: logs that its file must `export default defineHandler(…)`: %s", async (tool, why) => {
    const { result, logged } = await call(tool);
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(internalError(tool));
    expect(logged).toEqual([
      expect.objectContaining({
        tool,
        msg: `tool code failed to load: src/handlers/${tool}.ts must \`export default defineHandler("${tool}", …)\`; ${why}`,
      }),
    ]);
    expect(JSON.stringify(logged)).not.toContain("npm run generate");
  });

  it("a missing handler file: advises npm run generate, which creates its stub", async () => {
    const { result, logged } = await call("greet.gone");
    expect(result.content[0].text).toMatch(internalError("greet.gone"));
    expect(logged).toEqual([
      expect.objectContaining({
        tool: "greet.gone",
        msg: "tool code failed to load: src/handlers/greet.gone.ts is missing: npm run generate creates its stub",
      }),
    ]);
  });

  it("a module the handler imports is missing: the loader's own error, no advice to generate", async () => {
    const { result, logged } = await call("greet.imports");
    expect(result.content[0].text).toMatch(internalError("greet.imports"));
    expect(logged).toEqual([expect.objectContaining({ tool: "greet.imports", msg: "tool code failed to load" })]);
    expect(logged[0]?.err?.message).toContain("no-such-helper");
    expect(JSON.stringify(logged)).not.toContain("npm run generate");
  });

  it("the tool whose handler is right answers", async () => {
    const { result, logged } = await call("docs.create", { errorExpected: false });
    expect(result.content).toEqual([{ type: "text", text: "created" }]);
    expect(logged).toEqual([]);
  });
});
