/**
 * Child process: `runGenerator({root, mode: "write"})` on one temp project, timed in-process from
 * the call to its return (module loading excluded, reported apart). Prints one JSON line.
 *   node --import tsx bench/children/generate.ts <root> [toolgate root]
 */
const loadStarted = performance.now();
const { runGenerator } = await import("../../scripts/generator/pipeline.js");
const loadMs = performance.now() - loadStarted;

const root = process.argv[2];
if (!root) throw new Error("usage: generate.ts <project root>");
const started = performance.now();
// argv[3]: where the toolgate runtime lives (generated code imports it by relative path); default the project.
const toolgateRoot = process.argv[3];
const result = await runGenerator({
  root,
  mode: "write",
  env: { ...process.env, AUTH_MODE: "anonymous" },
  ...(toolgateRoot ? { toolgateRoot } : {}),
});
const generateMs = performance.now() - started;
const errors = result.diagnostics.filter((d) => d.severity === "error");
let bytes = 0;
for (const text of result.files?.values() ?? []) bytes += Buffer.byteLength(text);
const peak = Number(
  (await import("node:fs")).readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s*(\d+) kB/)?.[1] ?? Number.NaN,
);
console.log(
  JSON.stringify({
    ok: result.ok,
    errors: errors.slice(0, 3).map((d) => `${d.code}: ${d.message}`),
    generateMs,
    loadMs,
    generatedBytes: bytes,
    handlers: result.handlers.length,
    peakRssMiB: peak / 1024,
  }),
);
