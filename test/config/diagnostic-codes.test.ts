/**
 * The diagnostic code catalogue (src/config/diagnostic-codes.ts): every code the source reports is
 * explained there, every entry is a code some check reports and some test produces, docs/diagnostics.md
 * is rendered from it, and the CLI explains a code and points to the page after its diagnostics.
 */
import { execFile } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { emitDiagnosticsDocs } from "../../scripts/generator/emit/diagnostics-docs.js";
import { DIAGNOSTIC_CODES, explainDiagnosticCode, isDiagnosticCode } from "../../src/config/diagnostic-codes.js";
import { createTempProject, REPO, readRepoFile } from "../helpers/temp-project.js";

const run = promisify(execFile);
const CODE = /"((?:YAML|ENV|SCHEMA|AUTH|TOOLS|HANDLER|GEN)\d{3})"/g;
const CATALOGUE = "src/config/diagnostic-codes.ts";
const THIS_FILE = "test/config/diagnostic-codes.test.ts";

async function files(dir: string, suffix: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(REPO, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(suffix)) continue;
    const path = relative(REPO, join(entry.parentPath, entry.name));
    if (!path.split("/").some((part) => part === ".tmp" || part === "node_modules")) out.push(path);
  }
  return out.sort();
}

/** Each quoted code in the given files, with the files it is in. */
async function quotedCodes(paths: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const path of paths) {
    for (const [, code] of (await readRepoFile(path)).matchAll(CODE)) {
      const list = found.get(code!) ?? [];
      if (!list.includes(path)) list.push(path);
      found.set(code!, list);
    }
  }
  return found;
}

const codes = Object.keys(DIAGNOSTIC_CODES);
const source = [...(await files("src", ".ts")), ...(await files("scripts", ".ts"))].filter((p) => p !== CATALOGUE);
const reported = await quotedCodes(source);

describe("the diagnostic code catalogue", () => {
  it("explains every code the source reports", () => {
    const unexplained = [...reported].filter(([code]) => !isDiagnosticCode(code));
    expect(unexplained).toEqual([]);
    // The scan itself finds codes (a broken pattern would pass the line above vacuously).
    expect(reported.get("TOOLS004")).toContain("scripts/generator/rules.ts");
  });

  it("holds no code that nothing reports", () => {
    expect(codes.filter((code) => !reported.has(code))).toEqual([]);
  });

  it("holds no code that no test produces (a golden case or a test that names it)", async () => {
    const tests = (await files("test", ".test.ts")).filter((p) => p !== THIS_FILE);
    const golden = await files("test/golden", ".txt");
    let text = "";
    for (const path of [...tests, ...golden]) text += await readRepoFile(path);
    expect(codes.filter((code) => !new RegExp(`\\b${code}\\b`).test(text))).toEqual([]);
  });

  it("gives every entry a title, an explanation and a fix, in sentences", () => {
    for (const [code, info] of Object.entries(DIAGNOSTIC_CODES)) {
      expect(info.title, code).not.toMatch(/\.$/);
      expect(info.explanation, code).toMatch(/^\S.*[.)]$/s);
      expect(info.fix, code).toMatch(/^\S.*[.)]$/s);
      expect(["error", "warning", "error or warning"], code).toContain(info.severity);
    }
  });

  it("is docs/diagnostics.md, byte for byte, with a section for every code", async () => {
    const page = emitDiagnosticsDocs();
    expect(page).toBe(await readRepoFile("docs/diagnostics.md"));
    for (const code of codes) {
      expect(page).toContain(`\n### ${code}\n`);
      expect(page).toContain(`| [${code}](#${code.toLowerCase()}) |`);
    }
  });
});

describe("the CLI", () => {
  const generate = (args: string[], cwd = REPO) =>
    run(process.execPath, ["--import", "tsx", join(REPO, "scripts/generate.ts"), ...args], { cwd, timeout: 60_000 });

  it("--explain prints one entry, in any case", async () => {
    const { stdout } = await generate(["--explain", "tools017"]);
    expect(stdout.trim()).toBe(explainDiagnosticCode("TOOLS017"));
    expect(stdout).toContain(DIAGNOSTIC_CODES.TOOLS017.fix);
  });

  it("--explain without a code, before another option, is one line and exit 2 (parseArgs wrote three)", async () => {
    const failure = await generate(["--explain", "--check"]).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(
      /^generate: Option '--explain' argument is ambiguous\. \(options: [^\n]*\)\n$/,
    );
  });

  it("--explain of an unknown code exits 2 and says where the list is", async () => {
    const failure = await generate(["--explain", "TOOLS999"]).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain(
      'no diagnostic code "TOOLS999"; every code is in docs/diagnostics.md',
    );
  });

  it("points to the page after the diagnostics it printed, and not when there were none", async () => {
    const project = await createTempProject({ handlersDir: false });
    try {
      const clean = await generate(["--lint", "--root", project.root]);
      expect(clean.stderr).not.toContain("docs/diagnostics.md");
      const tools = join(project.root, "tools.yaml");
      await writeFile(tools, (await readFile(tools, "utf8")).replace(/^tools:/m, "tols:"));
      const failure = await generate(["--lint", "--root", project.root]).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 1 });
      const stderr = (failure as { stderr: string }).stderr;
      expect(stderr).toMatch(/tools\.yaml:\d+:\d+: error SCHEMA001: /);
      expect(stderr.trimEnd().split("\n").at(-1)).toBe(
        "Each code is explained in docs/diagnostics.md (npm run generate -- --explain CODE).",
      );
    } finally {
      await project.remove();
    }
  });
});
