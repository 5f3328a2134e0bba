/**
 * `generate --check`: renders to memory and names stale, missing and extra files without writing
 * anything; and the CLI on the real repository says it is up to date.
 */
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTempProject, hashTree, REPO, readRepoFile, type TempProject } from "../helpers/temp-project.js";
import { GENERATED_FILES, generate, withoutAuthVariables } from "./harness.js";

const run = promisify(execFile);

let project: TempProject;
beforeAll(async () => {
  project = await createTempProject();
  expect((await generate(project.root)).ok).toBe(true);
});
afterAll(() => project?.remove());

describe("check mode", () => {
  it("finds no drift right after generate", async () => {
    const before = await hashTree(project.root);
    const result = await generate(project.root, { mode: "check" });
    expect(result.ok).toBe(true);
    expect(result.drift).toEqual({ stale: [], missing: [], extra: [] });
    expect(result.handlers).toEqual([]);
    expect(result.files?.size).toBe(GENERATED_FILES.length);
    expect(result.docsDrift).toEqual({ stale: [], missing: [] });
    expect(await hashTree(project.root)).toBe(before);
  });

  it("names a stale, a missing and an extra file exactly, and writes nothing", async () => {
    const generated = join(project.root, "generated");
    await writeFile(join(generated, "registry.ts"), `${await project.read("generated/registry.ts")}// edited\n`);
    await rm(join(generated, "types.ts"));
    await writeFile(join(generated, "leftover.ts"), "export {};\n");
    const before = await hashTree(project.root);
    const result = await generate(project.root, { mode: "check" });
    expect(result.drift).toEqual({ stale: ["registry.ts"], missing: ["types.ts"], extra: ["leftover.ts"] });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(await hashTree(project.root)).toBe(before);
    // generate repairs all three
    expect((await generate(project.root)).ok).toBe(true);
    expect((await generate(project.root, { mode: "check" })).drift).toEqual({ stale: [], missing: [], extra: [] });
  });

  it("takes CRLF line ends for LF (a core.autocrlf checkout made before .gitattributes), and still finds an edit", async () => {
    const withCrlf = async (path: string, edit = "") =>
      writeFile(join(project.root, path), `${await project.read(path)}${edit}`.replaceAll("\n", "\r\n"));
    try {
      await withCrlf("generated/registry.ts");
      await withCrlf("docs/configuration.md");
      const result = await generate(project.root, { mode: "check" });
      expect(result.drift).toEqual({ stale: [], missing: [], extra: [] });
      expect(result.docsDrift).toEqual({ stale: [], missing: [] });
      expect(result.ok).toBe(true);
      await withCrlf("generated/types.ts", "// edited\n");
      expect((await generate(project.root, { mode: "check" })).drift?.stale).toEqual(["types.ts"]);
    } finally {
      expect((await generate(project.root)).ok).toBe(true);
    }
  });

  it("lists a missing handler stub without creating it", async () => {
    const handler = join(project.root, "src", "handlers", "docs.create.ts");
    const content = await readFile(handler, "utf8");
    await rm(handler);
    try {
      const before = await hashTree(project.root);
      const result = await generate(project.root, { mode: "check" });
      expect(result.handlers).toEqual(["src/handlers/docs.create.ts"]);
      // the CLI fails on it, and so does ok
      expect(result.ok).toBe(false);
      expect(result.diagnostics).toEqual([]);
      expect(result.drift).toEqual({ stale: [], missing: [], extra: [] });
      expect(await hashTree(project.root)).toBe(before);
    } finally {
      // The shared project as it was, for the tests after this one (in whatever order they run).
      await writeFile(handler, content);
    }
  });

  it("writes nothing when the YAML has errors", async () => {
    const before = await hashTree(project.root);
    const result = await generate(project.root, { mode: "check", toolsText: "tools: [\n" });
    expect(result.ok).toBe(false);
    expect(result.drift).toBeUndefined();
    expect(await hashTree(project.root)).toBe(before);
  });
});

describe("the CLI on the repository", () => {
  const cli = async (script: string) => {
    const env = withoutAuthVariables(await readRepoFile("auth.yaml"));
    return run("npm", ["run", "-s", script], { cwd: REPO, env, timeout: 30_000 });
  };

  it("npm run -s check:generated exits 0 and says generated/ is up to date", async () => {
    const { stderr } = await cli("check:generated");
    expect(stderr).toContain(`generated/ is up to date (${GENERATED_FILES.length} files).`);
    expect(stderr).toContain("docs/configuration.md is up to date.");
  });

  it("npm run -s lint:schema exits 0", async () => {
    const { stderr } = await cli("lint:schema");
    expect(stderr).toMatch(/tools\.yaml and auth\.yaml: no errors/);
  });
});
