/**
 * Golden diagnostics: each invalid fixture in test/fixtures/generator/<case>/ must make the generator
 * print exactly the lines in test/golden/generator/<case>.txt — message, code and `file:line:col`.
 * `UPDATE_GOLDEN=1 npx vitest run test/generator` rewrites the golden files; review every position by hand.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTempProject, readRepoFile, type TempProject } from "../helpers/temp-project.js";
import { diagnosticCases, GOLDEN, generate, printed } from "./harness.js";

const UPDATE = process.env.UPDATE_GOLDEN === "1";
const cases = await diagnosticCases();

let project: TempProject;
beforeAll(async () => {
  project = await createTempProject({ handlersDir: false });
});
afterAll(() => project?.remove());

describe("golden diagnostics", () => {
  it("has the required number of cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(14);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", async (name, c) => {
    const result = await generate(project.root, {
      mode: "lint",
      toolsText: c.tools,
      authText: c.auth ?? (await readRepoFile("auth.yaml")),
      env: c.env,
    });
    const actual = printed(result);
    const goldenPath = join(GOLDEN, `${name}.txt`);
    if (UPDATE) {
      await mkdir(GOLDEN, { recursive: true });
      await writeFile(goldenPath, actual);
    }
    expect(actual, "a case without diagnostics is not a diagnostics case").not.toBe("");
    expect(actual).toBe(await readFile(goldenPath, "utf8"));
    // ok is false exactly when an error was printed; warnings alone do not fail the run.
    expect(result.ok).toBe(!result.diagnostics.some((d) => d.severity === "error"));
    expect(result.diagnostics.map((d) => d.code)).not.toContain("GEN000");
  });
});
