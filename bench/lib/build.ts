/**
 * Compiles the servers once per run into a scratch folder — never into the repository's dist/ —
 * so every server runs as plain JavaScript on plain node, as `npm start` runs toolgate:
 *  - toolgate with the project's own build, `tsc -p tsconfig.build.json`;
 *  - the baseline servers (bench/servers/*.ts but toolgate.ts) with the same compiler options.
 * Running sources through tsx instead (`--source`) skews the comparison: tsx keeps a loader-hooks
 * thread (resident memory), esbuild's keepNames wraps every closure created per request in
 * `__name()`, and source maps are on.
 */
import { existsSync } from "node:fs";
import { copyFile, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execTracked, REPO } from "./proc.js";

/** tsc, tracked like the servers (proc.ts `execTracked`): killed with its native compiler on every way out. */
const tsc = (config: string) => execTracked(join(REPO, "node_modules", ".bin", "tsc"), ["-p", config]);

export interface Build {
  /** <root>/dist, holding src/ and generated/ as JavaScript. */
  dist: string;
  /** <root>/servers, the compiled baseline servers. */
  servers: string;
  /** Type errors tsc reported (it emits anyway); empty when clean. */
  diagnostics: string;
  ms: number;
}

export async function buildToolgate(dir: string): Promise<Build> {
  const root = join(dir, "build");
  const dist = join(root, "dist");
  await mkdir(root, { recursive: true });
  // package.json: `"type": "module"` for the .js files and the version server.ts reads;
  // node_modules: bare imports and ajv's createRequire() resolve from the repository's.
  await copyFile(join(REPO, "package.json"), join(root, "package.json"));
  await symlink(join(REPO, "node_modules"), join(root, "node_modules"), "dir");
  const started = performance.now();
  let diagnostics = "";
  try {
    // tsconfig.build.json plus the benchmark's own project (examples/bench-echo), whose generated
    // code imports the runtime by relative path: rootDir is the repository, so the layout holds.
    const buildConfig = join(root, "tsconfig.toolgate.json");
    await writeFile(
      buildConfig,
      JSON.stringify({
        extends: join(REPO, "tsconfig.build.json"),
        compilerOptions: { rootDir: REPO, outDir: dist },
        include: [join(REPO, "src"), join(REPO, "generated"), join(REPO, "examples", "bench-echo")],
      }),
    );
    await tsc(buildConfig);
  } catch (error) {
    diagnostics = `${(error as { stdout?: string }).stdout ?? ""}${(error as { stderr?: string }).stderr ?? ""}`.trim();
  }
  if (!existsSync(join(dist, "src", "server.js")))
    throw new Error(`tsc -p tsconfig.build.json emitted no dist/src/server.js:\n${diagnostics.slice(0, 2000)}`);

  const servers = join(root, "servers");
  const config = join(root, "tsconfig.servers.json");
  const sources = ["common", "baseline-v2", "baseline-v1", "tmcp"].map((f) =>
    join(REPO, "bench", "servers", `${f}.ts`),
  );
  await writeFile(
    config,
    JSON.stringify({
      extends: join(REPO, "tsconfig.json"),
      compilerOptions: { noEmit: false, sourceMap: false, rootDir: join(REPO, "bench", "servers"), outDir: servers },
      include: [],
      files: sources,
    }),
  );
  try {
    await tsc(config);
  } catch (error) {
    const out = `${(error as { stdout?: string }).stdout ?? ""}`.trim();
    if (!existsSync(join(servers, "tmcp.js")))
      throw new Error(`compiling bench/servers failed:\n${out.slice(0, 2000)}`);
    diagnostics += out;
  }
  return { dist, servers, diagnostics, ms: performance.now() - started };
}
