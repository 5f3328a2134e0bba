/**
 * generated/ is swapped in by two renames (scripts/generator/output-dir.ts). A process killed between
 * them left `.generated.old-*` and `.generated.new-*` and no generated/; one stopped while writing left
 * `.generated.new-*`. The next write run now tidies both, and SIGINT / SIGTERM remove the staging folder.
 * On Windows a rename or removal fails for a while when another process has a file open: renames
 * are retried, and a previous generated/ that cannot be removed after the swap is a warning.
 */
import { execFile } from "node:child_process";
import { lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { fileSystem } from "../../scripts/generator/output-dir.js";
import { formatDiagnostic } from "../../src/config/diagnostics.js";
import { createTempProject, hashTree, REPO, type TempProject } from "../helpers/temp-project.js";
import { generate, OPTIONAL_ENV } from "./harness.js";

/** A pid no process has (above Linux's and macOS's pid_max), as the leftovers of a killed run carry. */
const DEAD = 2147483646;

const leftovers = async (root: string) =>
  (await readdir(root)).filter((e) => /^\.generated\.(old|new)-/.test(e)).sort();

let project: TempProject;
let good: string;
beforeAll(async () => {
  project = await createTempProject();
  expect((await generate(project.root)).ok).toBe(true);
  good = await hashTree(join(project.root, "generated"));
});
afterAll(() => project?.remove());
afterEach(() => {
  vi.restoreAllMocks();
});

/** The leftovers of this process's own runs (an earlier test leaves one of another process). */
const own = async (root: string) => (await leftovers(root)).filter((e) => e.includes(`-${process.pid}-`));

/** The error Windows gives while another process has a file in the way open. */
const busy = (path: string) => Object.assign(new Error(`EBUSY: resource busy or locked, '${path}'`), { code: "EBUSY" });

describe("an interrupted swap of generated/", () => {
  it("killed between the renames: the next run restores generated/ and removes both folders, even with YAML errors", async () => {
    await rename(join(project.root, "generated"), join(project.root, `.generated.old-${DEAD}-0badcafe`));
    await mkdir(join(project.root, `.generated.new-${DEAD}-0badcafe`));
    await writeFile(join(project.root, `.generated.new-${DEAD}-0badcafe`, "registry.ts"), "// half written\n");

    const result = await generate(project.root, { toolsText: "tools: [\n", env: OPTIONAL_ENV });
    expect(result.ok).toBe(false);
    expect(result.recovered).toEqual([
      `generated/ was missing: restored it from .generated.old-${DEAD}-0badcafe, left by an interrupted run`,
      `removed .generated.new-${DEAD}-0badcafe, left by an interrupted run`,
    ]);
    expect(await hashTree(join(project.root, "generated"))).toBe(good);
    expect(await leftovers(project.root)).toEqual([]);
  });

  it("stopped while writing: the next run removes the staging folder of a dead process, not of a running one", async () => {
    const live = `.generated.new-${process.ppid}-1234abcd`;
    await mkdir(join(project.root, `.generated.new-${DEAD}-0badcafe`));
    await mkdir(join(project.root, live));
    const result = await generate(project.root);
    expect(result.ok).toBe(true);
    expect(result.recovered).toEqual([`removed .generated.new-${DEAD}-0badcafe, left by an interrupted run`]);
    expect(await leftovers(project.root)).toEqual([live]);
    expect(await hashTree(join(project.root, "generated"))).toBe(good);
    const again = await generate(project.root, { mode: "check" });
    expect(again.recovered).toBeUndefined(); // check mode writes nothing, and tidies nothing
    // The shared project as it was: the other tests expect no leftovers (in whatever order they run).
    await rm(join(project.root, live), { recursive: true });
  });

  // Windows has no SIGINT to send to a process.
  it.skipIf(process.platform === "win32")(
    "SIGINT while staging removes the staging folder and ends the process as SIGINT would",
    async () => {
      const own = await createTempProject();
      try {
        await mkdir(join(own.root, "generated"));
        await writeFile(join(own.root, "generated", "before.ts"), "// the previous generated code\n");
        const script = join(own.root, "interrupt.mts");
        await writeFile(
          script,
          `import { readdirSync } from "node:fs";
import { join } from "node:path";
import { replaceDirectory } from ${JSON.stringify(pathToFileURL(join(REPO, "scripts/generator/output-dir.ts")).href)};
const root = process.argv[2];
const files = new Map(Array.from({ length: 3000 }, (_, i) => [\`f\${i}.ts\`, "x".repeat(1000)]));
void replaceDirectory(join(root, "generated"), files);
// SIGINT as soon as the staging folder holds a file
const poll = () => {
  const staging = readdirSync(root).find((e) => e.startsWith(".generated.new-"));
  if (staging && readdirSync(join(root, staging)).length > 0) process.kill(process.pid, "SIGINT");
  else setImmediate(poll);
};
poll();
`,
        );
        const before = await hashTree(own.root);
        const outcome = await promisify(execFile)(process.execPath, ["--import", "tsx", script, own.root], {
          cwd: REPO,
          timeout: 30_000,
        }).then(
          () => "exited normally",
          (e: { signal?: string; stderr?: string }) => e.signal ?? `failed: ${e.stderr}`,
        );
        expect(outcome).toBe("SIGINT");
        expect(await leftovers(own.root)).toEqual([]);
        expect(await hashTree(own.root)).toBe(before);
      } finally {
        await own.remove();
      }
    },
  );
});

describe("renames and removals Windows refuses for a while", () => {
  it("a rename refused with EBUSY is tried again", async () => {
    const rename = fileSystem.rename;
    let refused = 0;
    vi.spyOn(fileSystem, "rename").mockImplementation(async (from, to) => {
      if (refused < 2 && String(from).includes(".generated.new-")) {
        refused++;
        throw busy(String(from));
      }
      return rename(from, to);
    });
    // A change to swap in (a run that changes nothing leaves generated/ as it is), then back.
    const tools = await project.read("tools.yaml");
    expect((await generate(project.root, { toolsText: tools.replace("Search", "Look through") })).ok).toBe(true);
    expect(refused).toBe(2);
    const result = await generate(project.root);
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    expect(await hashTree(join(project.root, "generated"))).toBe(good);
    expect(await own(project.root)).toEqual([]);
  });

  it("a previous generated/ that cannot be removed after the swap is a warning, not GEN000", async () => {
    const rm = fileSystem.rm;
    vi.spyOn(fileSystem, "rm").mockImplementation(async (path, options) => {
      if (String(path).includes(".generated.old-")) throw busy(String(path));
      return rm(path, options);
    });
    const tools = await project.read("tools.yaml");
    const result = await generate(project.root, { toolsText: tools.replace("Search", "Look through") });
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    const [old, ...more] = await own(project.root);
    expect(more).toEqual([]);
    expect(result.warnings).toEqual([
      `generated/ was replaced, but its previous version ${old} could not be removed (EBUSY): the next run tries again`,
    ]);
    // generated/ is the new code
    expect(await hashTree(join(project.root, "generated"))).not.toBe(good);
    vi.restoreAllMocks();
    await rm(join(project.root, old!), { recursive: true });
    expect((await generate(project.root)).ok).toBe(true);
    expect(await hashTree(join(project.root, "generated"))).toBe(good);
  });

  it("a leftover of an earlier run that cannot be removed is a warning naming it, and the run goes on", async () => {
    const stuck = `.generated.old-${DEAD}-5eadbeef`;
    await mkdir(join(project.root, stuck));
    const rm = fileSystem.rm;
    vi.spyOn(fileSystem, "rm").mockImplementation(async (path, options) => {
      if (String(path).endsWith(stuck))
        throw Object.assign(new Error(`EACCES: permission denied, rmdir '${path}'`), { code: "EACCES" });
      return rm(path, options);
    });
    for (let run = 1; run <= 2; run++) {
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      expect(result.ok).toBe(true);
      expect(result.recovered).toBeUndefined();
      expect(result.warnings).toEqual([
        `could not remove ${stuck}, left by an interrupted run (EACCES): the next run tries again; remove it yourself if it stays`,
      ]);
      expect(await hashTree(join(project.root, "generated"))).toBe(good);
    }
    vi.restoreAllMocks();
    const result = await generate(project.root);
    expect(result.recovered).toEqual([`removed ${stuck}, left by an interrupted run`]);
    expect(result.warnings).toBeUndefined();
  });

  it("a missing generated/ that cannot be put back stops the run (GEN000)", async () => {
    const old = `.generated.old-${DEAD}-0ddba11`;
    await rename(join(project.root, "generated"), join(project.root, old));
    vi.spyOn(fileSystem, "rename").mockImplementation(async (from) => {
      throw Object.assign(new Error(`EACCES: permission denied, rename '${from}'`), { code: "EACCES" });
    });
    const result = await generate(project.root);
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["GEN000"]);
    vi.restoreAllMocks();
    expect((await generate(project.root)).recovered).toEqual([
      `generated/ was missing: restored it from ${old}, left by an interrupted run`,
    ]);
    expect(await hashTree(join(project.root, "generated"))).toBe(good);
  });
});

describe("temporaries a killed run leaves (they must neither stay nor show)", () => {
  it("the temporary sibling of docs/configuration.md of a dead process is removed by the next write, not one of a running process", async () => {
    await mkdir(join(project.root, "docs"), { recursive: true });
    const stale = `.configuration.md.new-${DEAD}-0badcafe`;
    const live = `.configuration.md.new-${process.ppid}-1234abcd`;
    const other = `.other.md.new-${DEAD}-0badcafe`;
    for (const name of [stale, live, other]) await writeFile(join(project.root, "docs", name), "half written\n");
    expect((await generate(project.root)).ok).toBe(true);
    expect((await readdir(join(project.root, "docs"))).sort()).toEqual(
      [live, other, "configuration.md", "diagnostics.md"].sort(),
    );
  });

  it("git and biome ignore them", async () => {
    const paths = [
      `.generated.old-${DEAD}-0badcafe/registry.ts`,
      `.generated.new-${DEAD}-0badcafe/registry.ts`,
      `examples/conformance/.generated.new-${DEAD}-0badcafe/types.ts`,
      `docs/.configuration.md.new-${DEAD}-0badcafe`,
      `src/handlers/.new.tool.ts.new-${DEAD}-0badcafe`,
    ];
    const { stdout } = await promisify(execFile)("git", ["check-ignore", "--no-index", ...paths], { cwd: REPO });
    expect(stdout.trim().split("\n")).toEqual(paths);
    // biome reads .gitignore: it lints none of them
    const biome = JSON.parse(await readFile(join(REPO, "biome.json"), "utf8"));
    expect(biome.vcs).toMatchObject({ enabled: true, useIgnoreFile: true });
  });
});

describe("a generated/ that is no real folder", () => {
  const LINKED =
    "generated:1:1: error GEN001: generated/ is a symbolic link: generate replaces generated/ whole by renaming a new folder into its place, which would replace the link with a real folder and leave its target stale; make generated/ a real folder (move the target's content into it) and generate again";

  it.skipIf(process.platform === "win32")(
    "a symbolic link is refused (GEN001), in write and check mode, and neither it nor its target is touched",
    async () => {
      const own = await createTempProject();
      try {
        expect((await generate(own.root)).ok).toBe(true);
        const target = join(own.root, "elsewhere");
        await rename(join(own.root, "generated"), target);
        await symlink(target, join(own.root, "generated"));
        const before = await hashTree(target);
        const tools = (await own.read("tools.yaml")).replace("Search", "Look through");
        for (const mode of ["write", "check"] as const) {
          const result = await generate(own.root, { mode, toolsText: tools });
          expect(result.ok).toBe(false);
          expect(result.diagnostics.map(formatDiagnostic)).toEqual([LINKED]);
          expect((await lstat(join(own.root, "generated"))).isSymbolicLink()).toBe(true);
          expect(await hashTree(target)).toBe(before);
        }
        // A dangling link is not replaced by the previous generated/ a killed run left either.
        await rename(target, join(own.root, `.generated.old-${DEAD}-0badcafe`));
        const result = await generate(own.root);
        expect(result.diagnostics.map(formatDiagnostic)).toEqual([LINKED]);
        expect(result.recovered).toBeUndefined();
        expect((await lstat(join(own.root, "generated"))).isSymbolicLink()).toBe(true);
      } finally {
        await own.remove();
      }
    },
  );

  it("a file is refused (GEN001), not moved aside", async () => {
    const own = await createTempProject();
    try {
      await writeFile(join(own.root, "generated"), "not a folder\n");
      const result = await generate(own.root);
      expect(result.diagnostics.map(formatDiagnostic)).toEqual([
        "generated:1:1: error GEN001: generated/ is not a folder: generate replaces it whole and would move it aside; remove or rename it and generate again",
      ]);
      expect(await own.read("generated")).toBe("not a folder\n");
      expect(await readdir(own.root)).not.toContain(expect.stringMatching(/^\.generated\./));
    } finally {
      await own.remove();
    }
  });
});
