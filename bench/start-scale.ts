// Start time of a large generated project, compiled as npm start runs it: generate N tools under bench/tmp/,
// compile runtime + project with tsc, then time start → first tools/list in fresh processes.
//   npx tsx bench/start-scale.ts [N=1000]
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runGenerator } from "../scripts/generator/pipeline.js";
import { scaleToolsYaml } from "./lib/scale-project.js";

const REPO = join(import.meta.dirname, "..");
const n = Number(process.argv[2] ?? 1000);
const root = join(REPO, "bench", "tmp", `scale-${n}`);
await rm(root, { recursive: true, force: true });
await mkdir(join(root, "src", "handlers"), { recursive: true });
await writeFile(join(root, "tools.yaml"), await scaleToolsYaml(n));
await writeFile(join(root, "auth.yaml"), await readFile(join(REPO, "auth.yaml"), "utf8"));
await writeFile(
  join(root, "src", "toolgate.ts"),
  `export { defineHandler } from "../generated/define-handler.js";\nexport { ToolError } from "../../../../src/tools/errors.js";\n`,
);
let t = performance.now();
const r = await runGenerator({ root, mode: "write", toolgateRoot: REPO, configurationDocs: false, env: {} });
console.log("generate", Math.round(performance.now() - t), "ms", r.ok);
const out = join(REPO, "bench", "tmp", `dist-${n}`);
await writeFile(
  join(root, "tsconfig.json"),
  JSON.stringify({
    extends: join(REPO, "tsconfig.build.json"),
    compilerOptions: { rootDir: REPO, outDir: out, sourceMap: false },
    include: [join(REPO, "src"), root],
    exclude: [],
  }),
);
t = performance.now();
try {
  execFileSync(join(REPO, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.json")], { stdio: "pipe" });
} catch {
  console.log("tsc reported errors (it emits anyway)");
}
console.log("tsc", Math.round(performance.now() - t), "ms");
await writeFile(join(out, "package.json"), JSON.stringify({ type: "module" }));
await writeFile(
  join(out, "start.mjs"),
  `const t0 = performance.now();\nconst { startServer } = await import("./src/server.js");\nconst { project } = await import("./bench/tmp/scale-${n}/generated/project.js");\nconst s = await startServer({ project, env: { ...process.env, AUTH_MODE: "anonymous" }, server: { port: 0, host: "127.0.0.1" } });\nconst t1 = performance.now();\nconst res = await fetch(s.url + "/mcp", { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) });\nconst text = await res.text();\nconst t2 = performance.now();\nconsole.log(JSON.stringify({ startMs: Math.round(t1 - t0), firstListMs: Math.round(t2 - t1), bytes: text.length, rssMiB: Math.round(process.memoryUsage().rss / 1048576) }));\nawait s.close(); process.exit(0);\n`,
);
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const outp = execFileSync(process.execPath, [join(out, "start.mjs")], {
    cwd: REPO,
    env: { ...process.env, LOG_LEVEL: "warn", DATA_DIR: join(root, "data") },
  }).toString();
  console.log("process", Math.round(performance.now() - t0), "ms", outp.trim().split("\n").pop());
}
