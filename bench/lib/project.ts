/**
 * Which toolgate project the benchmark serves, and which tool it calls: the two places that change
 * when the runtime can serve another project's generated/ code (multi-project support).
 *
 * Today the runtime imports the repository's own generated/ statically, so the throughput modes
 * call a shipped tool (TOOLGATE_TOOL) and the scale part measures `generate` only. When the runtime
 * takes a project root:
 *   1. implement `startProject()` below (e.g. `startServer({ root, ... })`),
 *   2. set SERVES_OTHER_PROJECTS to true,
 *   3. point TOOLGATE_TOOL at the bench project's trivial `echo` tool (BENCH_TOOLS_YAML), so toolgate
 *      and the baselines run the very same tool.
 * The scale part (bench/scenarios/codegen.ts) then measures start time, tools/list latency and
 * memory for 10 … 10,000 tools with no further change.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO } from "./proc.js";

/**
 * The toolgate call every throughput mode makes (one constant: change it here only): the same
 * trivial `echo` the hand-written baselines and tmcp serve, from the toolgate project
 * examples/bench-echo (mixed like codebase.search: anonymous, or signed in with search.read).
 */
export const TOOLGATE_TOOL = {
  name: "echo",
  arguments: { text: "needle" } as Record<string, unknown>,
  /** The scope a token needs for it in mode oauth2. */
  scope: "search.read",
  describe: "echo from examples/bench-echo (the baselines' tool)",
};

/** The project that serves TOOLGATE_TOOL, relative to the repository (compiled with toolgate). */
export const TOOLGATE_PROJECT = "examples/bench-echo";

/** The real search, over a one-file CODEBASE_ROOT: the informational mode `anonymous+search`. */
export const TOOLGATE_SEARCH_TOOL = {
  name: "codebase.search",
  arguments: { query: "needle", limit: 1 } as Record<string, unknown>,
  scope: "search.read",
  describe: "codebase.search over a one-file folder (one regex worker per call)",
};

/** The tool the hand-written baselines and tmcp serve. */
export const BASELINE_TOOL = { name: "echo", arguments: { text: "needle" } as Record<string, unknown> };

/** True once the runtime can serve a project root other than the repository's. */
export const SERVES_OTHER_PROJECTS = false;

/**
 * The project a cleaner comparison would use: a trivial `echo` tool, callable anonymously and with
 * `bench.read`, for when SERVES_OTHER_PROJECTS is true (its handler returns `{content: [{type: "text", text}]}`).
 */
export const BENCH_TOOLS_YAML = `server:
  name: toolgate-bench
  title: toolgate benchmark project
tools:
  echo:
    title: Echo
    description: Echoes the text it is given.
    input:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        text:
          type: string
          maxLength: 1000
    securitySchemes:
      - type: noauth
      - type: oauth2
        scopes: [bench.read]
`;

export type StartFn = () => Promise<{ url: string; close(): Promise<void> }>;

type StartServer = (options?: { project?: unknown }) => Promise<{ url: string; close(): Promise<void> }>;

/** A module path in a variable: imported without tying the bench's types to what generated/ holds today. */
const importModule = (specifier: string): Promise<Record<string, unknown>> => import(specifier);

/**
 * How the bench server process (bench/servers/toolgate.ts) starts toolgate for `root`. The runtime
 * takes the project to serve (`startServer({ project })`, generated/project.ts); a runtime from
 * before multi-project support takes none and imports the repository's generated/ itself.
 */
export async function loadStart(root: string | undefined): Promise<StartFn> {
  const { startServer } = (await importModule("../../src/server.js")) as { startServer: StartServer };
  if (root === undefined || resolve(root) === resolve(REPO)) {
    const project = await importModule("../../generated/project.js").then(
      (m) => m.project,
      () => undefined,
    );
    return () => startServer(project === undefined ? undefined : { project });
  }
  return startProject(root, startServer);
}

/**
 * The multi-project hook: start toolgate serving the generated/ code of another project root
 * (the scale projects of bench/lib/scale-project.ts, or the echo project BENCH_TOOLS_YAML).
 * Set SERVES_OTHER_PROJECTS once this works: the scale part then measures start, tools/list and
 * memory per N with no other change.
 */
async function startProject(root: string, startServer: StartServer): Promise<StartFn> {
  // A project inside the repository (its generated code imports the runtime by relative path).
  const { project } = await importModule(pathToFileURL(join(root, "generated", "project.ts")).href);
  return () => startServer({ project });
}

/** A folder holding one small file: the CODEBASE_ROOT the shipped search tool searches. */
export async function createTinyCodebase(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "toolgate-bench-codebase-"));
  await writeFile(join(dir, "hello.ts"), 'export const needle = "haystack";\n');
  return dir;
}
