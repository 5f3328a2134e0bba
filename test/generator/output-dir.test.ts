/**
 * generated/ is swapped in by two renames (scripts/generator/output-dir.ts). A process killed between
 * them left `.generated.old-*` and `.generated.new-*` and no generated/; one stopped while writing left
 * `.generated.new-*`. The next write run now tidies both, and SIGINT / SIGTERM remove the staging folder.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  });

  it("SIGINT while staging removes the staging folder and ends the process as SIGINT would", async () => {
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
  });
});
