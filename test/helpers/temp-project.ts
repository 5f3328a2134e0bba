/**
 * Throw-away project roots for generator tests: a temporary folder holding `schema/`, a tools.yaml,
 * an auth.yaml and `src/handlers/`, so that `runGenerator({ root })` never writes into the repository.
 */
import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file lives in test/helpers/). */
export const REPO = fileURLToPath(new URL("../..", import.meta.url));

export const readRepoFile = (path: string): Promise<string> => readFile(join(REPO, path), "utf8");

export interface TempProject {
  root: string;
  /** Writes a file relative to the root, creating folders. */
  write(path: string, content: string): Promise<void>;
  read(path: string): Promise<string>;
  remove(): Promise<void>;
}

export interface TempProjectOptions {
  /** tools.yaml content; default the repository's. */
  tools?: string;
  /** auth.yaml content; default the repository's. */
  auth?: string;
  /** Create an empty `src/handlers/`. Default true. */
  handlersDir?: boolean;
  /** Further repository paths to copy (files or folders), e.g. `src`, `tsconfig.json`. */
  copy?: string[];
  prefix?: string;
}

export async function createTempProject(options: TempProjectOptions = {}): Promise<TempProject> {
  const root = await mkdtemp(join(tmpdir(), options.prefix ?? "toolgate-gen-"));
  const write = async (path: string, content: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  };
  await cp(join(REPO, "schema"), join(root, "schema"), { recursive: true });
  for (const path of options.copy ?? []) await cp(join(REPO, path), join(root, path), { recursive: true });
  await write("tools.yaml", options.tools ?? (await readRepoFile("tools.yaml")));
  await write("auth.yaml", options.auth ?? (await readRepoFile("auth.yaml")));
  if (options.handlersDir ?? true) await mkdir(join(root, "src", "handlers"), { recursive: true });
  return {
    root,
    write,
    read: (path) => readFile(join(root, path), "utf8"),
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

/** Every file below `dir` (relative, `/`-separated, sorted); empty when `dir` does not exist. */
export async function listTree(dir: string, base = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTree(full, base)));
    else out.push(relative(base, full).split("\\").join("/"));
  }
  return out.sort();
}

/** One hash over the names and bytes of every file below `dir` ("" when it does not exist). */
export async function hashTree(dir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const file of await listTree(dir)) {
    hash.update(`${file}\0`);
    hash.update(await readFile(join(dir, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Content and mtime of a file, to prove that nothing touched it. */
export async function fingerprint(path: string): Promise<{ content: string; mtimeMs: number }> {
  const [content, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
  return { content, mtimeMs: info.mtimeMs };
}

/**
 * A project of test/fixtures/projects/ copied into test/.tmp/ (inside the repository, so its
 * generated code imports the runtime by a relative path), given a src/toolgate.ts, generated, and
 * imported: ready for `startServer({ project, authFile: join(root, "auth.yaml") })`.
 */
export async function generatedFixtureProject(
  name: string,
): Promise<{ root: string; project: import("../../src/tools/project.js").ToolProject; diagnostics: unknown[] }> {
  const { runGenerator } = await import("../../scripts/generator/pipeline.js");
  await mkdir(join(REPO, "test", ".tmp"), { recursive: true });
  const root = await mkdtemp(join(REPO, "test", ".tmp", `${name}-`));
  await cp(join(REPO, "test", "fixtures", "projects", name), root, { recursive: true });
  const runtime = relative(join(root, "src"), join(REPO, "src")).split("\\").join("/");
  await writeFile(
    join(root, "src", "toolgate.ts"),
    [
      'export { defineHandler } from "../generated/define-handler.js";',
      `export { ToolError } from "${runtime}/tools/errors.js";`,
      `export { toolResult } from "${runtime}/tools/handler-api.js";`,
      "",
    ].join("\n"),
  );
  const generated = await runGenerator({ root, mode: "write", toolgateRoot: REPO, configurationDocs: false, env: {} });
  if (!generated.ok) throw new Error(`fixture ${name} does not generate: ${JSON.stringify(generated.diagnostics)}`);
  const { project } = await import(join(root, "generated", "project.ts"));
  return { root, project, diagnostics: generated.diagnostics };
}

/**
 * generatedFixtureProject(name), served as the integration tests serve it: on 127.0.0.1 (port 0),
 * with the fixture's auth.yaml, DATA_DIR inside its folder, and the log lines at `error` collected
 * (parsed) in `logged`. `close` stops the server and removes the folder.
 */
export async function servedFixtureProject<Line = Record<string, unknown>>(
  name: string,
  env: Record<string, string> = {},
) {
  const fixture = await generatedFixtureProject(name);
  const { startServer } = await import("../../src/server.js");
  const { default: pino } = await import("pino");
  const logged: Line[] = [];
  const server = await startServer({
    project: fixture.project,
    authFile: join(fixture.root, "auth.yaml"),
    env: { DATA_DIR: join(fixture.root, "data"), ...env },
    server: { port: 0, host: "127.0.0.1" },
    logger: pino({ level: "error" }, { write: (line: string) => void logged.push(JSON.parse(line) as Line) }),
  });
  return {
    ...fixture,
    server,
    mcpUrl: `${server.url}/mcp`,
    logged,
    close: async () => {
      await server.close();
      await rm(fixture.root, { recursive: true, force: true });
    },
  };
}

export type ServedFixture<Line = Record<string, unknown>> = Awaited<ReturnType<typeof servedFixtureProject<Line>>>;
