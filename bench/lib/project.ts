/**
 * Which toolgate project the benchmark serves and which tool it calls, and how the bench launcher
 * starts toolgate on a project (the runtime serves any generated project: `startServer({ project })`).
 */
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO, scratchDir } from "./proc.js";

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

export type StartFn = () => Promise<{ url: string; close(): Promise<void> }>;

type StartServer = (options?: { project?: unknown }) => Promise<{ url: string; close(): Promise<void> }>;

/** A module path in a variable: imported without tying the bench's types to what generated/ holds today. */
const importModule = (specifier: string): Promise<Record<string, unknown>> => import(specifier);

/**
 * How the bench server process (bench/servers/toolgate.ts, the sources through tsx) starts toolgate
 * for `root`: the repository's own project, or the generated/ code of another project root.
 */
export async function loadStart(root: string | undefined): Promise<StartFn> {
  const { startServer } = (await importModule("../../src/server.js")) as { startServer: StartServer };
  const projectRoot = root === undefined ? REPO : resolve(root);
  const { project } = await importModule(pathToFileURL(join(projectRoot, "generated", "project.ts")).href);
  return () => startServer({ project });
}

/** A folder holding one small file: the CODEBASE_ROOT the shipped search tool searches; removed on exit. */
export async function createTinyCodebase(): Promise<string> {
  const dir = scratchDir("toolgate-bench-codebase-");
  await writeFile(join(dir, "hello.ts"), 'export const needle = "haystack";\n');
  return dir;
}
