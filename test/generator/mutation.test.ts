/**
 * Mutation test: 500 reproducibly damaged variants of the shipped tools.yaml go through
 * `runGenerator` in write mode against one temporary project. Whatever the damage, the generator
 * resolves (never throws, no unhandled rejection, no GEN000); when it reports an error, generated/ is
 * byte-identical to before and no handler file appeared; when it succeeds, generated/ holds exactly
 * the rendered files. Reproduce a variant with `variants(base, 500, SEED)[index]`.
 * The ajv memo (./ajv-memo.ts) keeps the 500 runs near 12 s; its transparency is tested below.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import type { GeneratorResult } from "../../scripts/generator/pipeline.js";
import { createTempProject, hashTree, listTree, readRepoFile, type TempProject } from "../helpers/temp-project.js";
import { ajvMemoHits, installAjvMemo, uninstallAjvMemo } from "./ajv-memo.js";
import { GENERATED_FILES, generate, printed } from "./harness.js";
import { type Variant, variants } from "./mutate.js";

const SEED = 0x70019a7e;
const COUNT = 500;

let project: TempProject;
let base: string;
/** Diagnostics whose line:col lies outside the file they name (see the test below). */
const outside: string[] = [];
let mutationRunDone = false;
let auth: string;

beforeAll(async () => {
  base = await readRepoFile("tools.yaml");
  auth = await readRepoFile("auth.yaml");
  project = await createTempProject({ tools: base, auth });
  const first = await generate(project.root);
  expect(first.ok).toBe(true);
});
afterAll(() => project?.remove());

/** Every way a variant's run can break the generator's promises, as readable strings. */
async function problemsOf(variant: Variant, run: () => Promise<GeneratorResult>): Promise<string[]> {
  const generatedDir = join(project.root, "generated");
  const handlersDir = join(project.root, "src", "handlers");
  const before = await hashTree(generatedDir);
  const handlersBefore = await readdir(handlersDir);
  let result: GeneratorResult;
  try {
    result = await run();
  } catch (error) {
    return [`threw: ${String(error)}`];
  }
  const problems: string[] = [];
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (result.diagnostics.some((d) => d.code === "GEN000")) problems.push(`GEN000: ${printed(result)}`);
  if (result.ok === errors.length > 0) problems.push(`ok=${result.ok} with ${errors.length} error(s)`);

  const texts: Record<string, string> = { "tools.yaml": variant.text, "auth.yaml": auth };
  for (const d of result.diagnostics) {
    const lineText = (texts[d.file] ?? "").split("\n")[d.line - 1];
    if (d.line < 1 || d.col < 1 || lineText === undefined || d.col > lineText.length + 1)
      outside.push(
        `variant ${variant.index} (${variant.mutations.join(", ")}): ${d.file}:${d.line}:${d.col} ${d.code}`,
      );
  }

  const handlersAfter = await readdir(handlersDir);
  if (errors.length > 0) {
    if ((await hashTree(generatedDir)) !== before) problems.push("generated/ changed although errors were reported");
    if (handlersAfter.join() !== handlersBefore.join())
      problems.push("src/handlers/ changed although errors were reported");
    if (result.files !== undefined || result.handlers.length > 0)
      problems.push("files or handlers reported with errors");
  } else {
    const onDisk = await listTree(generatedDir);
    // The fixed files, plus one validators/<Tool>.ts per tool of the variant: exactly what was rendered.
    const rendered = [...(result.files?.keys() ?? [])].sort();
    const fixed = GENERATED_FILES.filter((f) => !f.startsWith("validators/"));
    if (onDisk.join() !== rendered.join() || fixed.some((f) => !onDisk.includes(f)))
      problems.push(`generated/ holds ${onDisk.join(", ")}`);
    for (const [name, content] of result.files ?? []) {
      if (content.length === 0) problems.push(`generated/${name} is empty`);
      if ((await readFile(join(generatedDir, name), "utf8")) !== content) problems.push(`generated/${name} differs`);
    }
    const created = handlersAfter.filter((f) => !handlersBefore.includes(f)).map((f) => `src/handlers/${f}`);
    if (created.sort().join() !== [...result.handlers].sort().join())
      problems.push(`created ${created.join(", ")} but reported ${result.handlers.join(", ")}`);
  }
  return problems;
}

describe("mutation test", () => {
  // ~13 s quiet, 59 s with four busy loops beside it: a "does not hang" bound, not a speed goal.
  it(`${COUNT} damaged variants of tools.yaml never break the generator's promises`, { timeout: 300_000 }, async () => {
    const all = variants(base, COUNT, SEED);
    expect(new Set(all.map((v) => v.text)).size).toBeGreaterThan(COUNT * 0.95);
    expect(all.every((v) => v.text !== base)).toBe(true);

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    installAjvMemo();
    const failures: { variant: Variant; problems: string[] }[] = [];
    const stats = { succeeded: 0, failed: 0, byMutation: new Map<string, { ok: number; failed: number }>() };
    const codes = new Map<string, number>();
    const started = performance.now();
    try {
      for (const variant of all) {
        let result: GeneratorResult | undefined;
        const problems = await problemsOf(variant, async () => {
          result = await generate(project.root, { toolsText: variant.text, authText: auth });
          return result;
        });
        if (problems.length > 0) failures.push({ variant, problems });
        const ok = result?.ok === true;
        if (ok) stats.succeeded++;
        else stats.failed++;
        const row = stats.byMutation.get(variant.mutations[0]!) ?? { ok: 0, failed: 0 };
        row[ok ? "ok" : "failed"]++;
        stats.byMutation.set(variant.mutations[0]!, row);
        for (const d of result?.diagnostics ?? []) codes.set(d.code, (codes.get(d.code) ?? 0) + 1);
      }
    } finally {
      uninstallAjvMemo();
      process.off("unhandledRejection", onUnhandled);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);

    console.info(
      [
        `mutation test: ${COUNT} variants (seed ${SEED}) in ${seconds}s, write mode: ${stats.succeeded} generated, ${stats.failed} rejected`,
        ...[...stats.byMutation].map(
          ([m, r]) =>
            `  ${m.padEnd(36)} ${String(r.ok).padStart(3)} generated ${String(r.failed).padStart(4)} rejected`,
        ),
        `  diagnostics outside their file: ${outside.length}, in ${new Set(outside.map((o) => o.split(" ")[1])).size} variants`,
        `  diagnostics: ${[...codes]
          .sort()
          .map(([c, n]) => `${c}×${n}`)
          .join(" ")}`,
      ].join("\n"),
    );
    expect(ajvMemoHits()).toBeGreaterThan(0);
    expect(unhandled).toEqual([]);
    expect({
      failures: failures.length,
      first: failures
        .slice(0, 5)
        .map((f) => ({ index: f.variant.index, mutations: f.variant.mutations, problems: f.problems })),
    }).toEqual({ failures: 0, first: [] });
    expect(stats.succeeded + stats.failed).toBe(COUNT);
    // Both branches were exercised meaningfully.
    expect(stats.succeeded).toBeGreaterThan(20);
    expect(stats.failed).toBeGreaterThan(200);
    mutationRunDone = true;
  });

  // Was a bug (src/config/yaml-source.ts): after a syntax error, yaml's LineCounter missed the line
  // starts inside multi-line scalar tokens, so later YAML001 positions drifted (e.g. "15:337" on a
  // 96-character line). Positions now come from the text's own line feeds. Minimal case in known-bugs.test.ts.
  it("every diagnostic of every variant points inside the file it names", () => {
    expect(mutationRunDone).toBe(true);
    if (outside.length > 0)
      console.info(`${outside.length} diagnostics outside their file, e.g.\n  ${outside.slice(0, 5).join("\n  ")}`);
    expect(outside).toEqual([]);
  });

  it("the ajv memo is transparent: same diagnostics with and without it", async () => {
    // Variants that parse, so that they reach the schema checks and the rules (where ajv compiles).
    const sample = variants(base, 200, SEED ^ 0x5a5a)
      .filter((v) => parseDocument(v.text, { uniqueKeys: true }).errors.length === 0)
      .slice(0, 8);
    expect(sample).toHaveLength(8);
    for (const variant of sample) {
      const plain = printed(await generate(project.root, { mode: "lint", toolsText: variant.text, authText: auth }));
      installAjvMemo();
      try {
        // twice: the second run is answered from the memo
        await generate(project.root, { mode: "lint", toolsText: variant.text, authText: auth });
        const memo = printed(await generate(project.root, { mode: "lint", toolsText: variant.text, authText: auth }));
        expect(memo, `variant ${variant.index} (${variant.mutations.join(", ")})`).toBe(plain);
      } finally {
        uninstallAjvMemo();
      }
    }
  });
});
