/**
 * A throw-away folder tree for the codebase.search tests: .gitignore files at two levels, a binary
 * file, a large file, symbolic links leading out, a catastrophic-backtracking line, and a folder
 * outside the search root that only signed-in callers (wider root) may search.
 */
import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const LARGE_FILE_LIMIT = 4096;

export interface CodebaseFixture {
  /** Holds everything; the signed-in root. */
  base: string;
  /** The anonymous root (base/public). */
  root: string;
  /** A folder next to the root, outside it (base/private). */
  outside: string;
}

export async function makeCodebaseFixture(): Promise<CodebaseFixture> {
  const base = await mkdtemp(join(tmpdir(), "toolgate-search-"));
  const root = join(base, "public");
  const outside = join(base, "private");
  const files: Record<string, string | Buffer> = {
    "public/.gitignore": "ignored.txt\nbuild/\n*.log\n!keep.log\n",
    "public/a.txt": "hello needle world\nNeedle with a capital\nnothing here\n",
    "public/special.txt": "a.b and a*b\naxb only\n",
    "public/src/main.ts": "const needle = 1;\n  // NEEDLE in upper case\nexport {};\n",
    "public/src/.gitignore": "secret.ts\n",
    "public/src/secret.ts": "needle in a file ignored by the nested .gitignore\n",
    "public/src/deep/keep.ts": "needle deep down\n",
    "public/ignored.txt": "needle ignored by the root .gitignore\n",
    "public/build/out.js": "needle in an ignored folder\n",
    "public/x.log": "needle in an ignored *.log\n",
    "public/keep.log": "needle re-included by !keep.log\n",
    "public/node_modules/pkg/index.js": "needle in node_modules\n",
    "public/.git/config": "needle in .git\n",
    "public/bin.dat": Buffer.concat([Buffer.from("needle "), Buffer.from([0, 1, 2, 3]), Buffer.from(" needle\n")]),
    "public/large.txt": `needle ${"x".repeat(LARGE_FILE_LIMIT)}\n`,
    "public/long.txt": `${"a ".repeat(600)}needle${" b".repeat(600)}\n`,
    "public/unicode.txt": "😀😀 needle\n",
    "public/crlf.txt": "first\r\nsecond needle\r\n",
    "public/many/lines.txt": Array.from({ length: 120 }, (_, i) => `repeat line ${i}`).join("\n"),
    "public/catastrophic.txt": `${"a".repeat(64)}!\n`,
    "private/secret.txt": "needle only signed-in callers can find: wider-root-marker\n",
  };
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(base, rel)), { recursive: true });
    await writeFile(join(base, rel), content);
  }
  await symlink(outside, join(root, "link-out"), "junction");
  await symlink(join(outside, "secret.txt"), join(root, "link-file.txt"), "file");
  return { base, root, outside };
}
