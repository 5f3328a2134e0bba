/**
 * Part 3: the scale of the schema-first part, for N generated tools — `generate` time (and the
 * generator's peak memory), then the server on that project as `npm start` runs one: the generated
 * TypeScript made JavaScript, toolgate's compiled runtime, plain node; start time (spawn → first 200
 * on /healthz), tools/list latency and resident memory.
 */
import { cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { transform } from "esbuild";
import { execChild } from "../lib/exec.js";
import { runLoad } from "../lib/load.js";
import { REPO, removeOnExit, SERVER_CORE, tsxArgs } from "../lib/proc.js";
import { MODERN, mcpRequest, send, verdict } from "../lib/requests.js";
import { createScaleProject, scaleToolName } from "../lib/scale-project.js";
import { launch } from "../lib/servers.js";

export interface ServeFigures {
  /** Process spawn → first 200 from /healthz. */
  startMs: number;
  listP50: number;
  listP99: number;
  listBytes: number;
  /** The first tools/call of one tool after start: its handler and validators are loaded then. */
  firstCallMs: number;
  /** The next call of the same tool. */
  nextCallMs: number;
  rssMiB: number | undefined;
}

export interface CodegenSize {
  tools: number;
  ok: boolean;
  error?: string;
  /** runGenerator() call → return, in the child (module loading excluded). */
  generateMs?: number;
  /** Importing the generator's modules, ms. */
  loadMs?: number;
  generatedBytes?: number;
  peakRssMiB?: number;
  /** Undefined until the runtime can serve another project's generated/ code. */
  serve?: ServeFigures;
  serveSkipped?: string;
}

export interface CodegenOptions {
  sizes: number[];
  /** The harness's compiled runtime (bench/lib/build.ts): needed to serve the generated projects. */
  build?: { dist: string };
  /** Scratch folder for server logs. */
  dir: string;
  log: (line: string) => void;
  keepProjects?: boolean;
}

/** The multi-project part: start toolgate on `root`, time its start, list its tools. */
async function serveFigures(root: string, dir: string, tools: number): Promise<ServeFigures> {
  const server = await launch({
    kind: "toolgate",
    dir,
    name: `scale-${tools}`,
    env: { AUTH_MODE: "anonymous", BENCH_PROJECT_ROOT: root, DATA_DIR: `${root}/data`, LOG_LEVEL: "warn" },
  });
  try {
    const request = mcpRequest(MODERN, "tools/list", {});
    const probe = await send(server.base, request);
    if (probe.status !== 200 || verdict(probe.body) === "bad") throw new Error(`tools/list failed: ${probe.status}`);
    const name = scaleToolName(1, tools);
    const call = mcpRequest(MODERN, "tools/call", { name, arguments: { query: "x" } });
    const timed = async () => {
      const started = performance.now();
      const answer = await send(server.base, call);
      // The generated stub's own answer proves its handler and validators loaded and ran; an
      // internal error (a module that failed to load) is an isError result too, so it is not enough.
      if (answer.status !== 200 || !answer.body.includes(`not implemented: ${name}`))
        throw new Error(`tools/call failed: ${answer.status} ${answer.body.slice(0, 200)}`);
      return performance.now() - started;
    };
    const firstCallMs = await timed();
    const nextCallMs = await timed();
    const load = await runLoad({ base: server.base, request, connections: 1, durationSec: 2 });
    return {
      firstCallMs,
      nextCallMs,
      startMs: server.readyMs,
      listP50: load.p50,
      listP99: load.p99,
      listBytes: Buffer.byteLength(probe.body),
      rssMiB: server.rssMiB(),
    };
  } finally {
    await server.stop();
  }
}

/**
 * The project's TypeScript (generated/ and src/) as JavaScript next to it, types erased by esbuild
 * file by file — what tsc would emit for running, without type-checking 10,000 tools' types first.
 */
async function transpileProject(root: string): Promise<void> {
  for (const folder of ["generated", "generated/validators", "src", "src/handlers"]) {
    for (const entry of await readdir(join(root, folder), { withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
      const file = join(root, folder, entry.name);
      const { code } = await transform(await readFile(file, "utf8"), {
        loader: "ts",
        format: "esm",
        target: "node20",
        sourcefile: file,
      });
      await writeFile(file.replace(/\.ts$/, ".js"), code);
    }
  }
}

export async function runCodegen(options: CodegenOptions): Promise<CodegenSize[]> {
  const out: CodegenSize[] = [];
  const dist = options.build?.dist;
  // A project next to the compiled runtime: its generated code imports `<dist>/src/…` by relative
  // path, and the generator reads the schemas from the runtime's root.
  if (dist) await cp(join(REPO, "schema"), join(dist, "schema"), { recursive: true });
  const parent = dist ? dirname(dist) : undefined;
  for (const n of options.sizes) {
    const root = parent
      ? await createScaleProject(n, parent, relative(join(parent, "project", "src"), dist as string))
      : await createScaleProject(n);
    if (!options.keepProjects) removeOnExit(root);
    const size: CodegenSize = { tools: n, ok: false };
    try {
      const line = await execChild(tsxArgs("bench/children/generate.ts", root, ...(dist ? [dist] : [])), {
        core: SERVER_CORE,
        // Measured ≈ 35 ms per tool on a busy machine: allow ten times that.
        timeoutMs: 60_000 + n * 350,
      });
      const r = JSON.parse(line) as {
        ok: boolean;
        errors: string[];
        generateMs: number;
        loadMs: number;
        generatedBytes: number;
        peakRssMiB: number;
      };
      // A run that failed has no generate time: it would read as one (and pass the target).
      Object.assign(
        size,
        r.ok
          ? {
              ok: true,
              generateMs: r.generateMs,
              loadMs: r.loadMs,
              generatedBytes: r.generatedBytes,
              peakRssMiB: r.peakRssMiB,
            }
          : { ok: false, peakRssMiB: r.peakRssMiB, error: `generate failed: ${r.errors.join("; ").slice(0, 500)}` },
      );
      if (r.ok && dist) {
        await transpileProject(root);
        size.serve = await serveFigures(root, options.dir, n);
      } else {
        size.serveSkipped = r.ok ? "no compiled runtime (run without --source)" : "generate failed";
      }
    } catch (error) {
      size.error = (error as Error).message.slice(0, 500);
    } finally {
      if (!options.keepProjects) await rm(root, { recursive: true, force: true });
    }
    options.log(
      `  ${String(n).padStart(6)} tools: ${size.generateMs !== undefined ? `generate ${(size.generateMs / 1000).toFixed(2)} s, peak ${size.peakRssMiB?.toFixed(0)} MiB, ${((size.generatedBytes ?? 0) / 1e6).toFixed(1)} MB generated` : `FAILED ${size.error}`}${size.serve ? `; start ${size.serve.startMs.toFixed(0)} ms, first call ${size.serve.firstCallMs.toFixed(1)} ms (next ${size.serve.nextCallMs.toFixed(1)}), tools/list p50 ${size.serve.listP50} ms, rss ${size.serve.rssMiB?.toFixed(0)} MiB` : ""}`,
    );
    out.push(size);
  }
  return out;
}
