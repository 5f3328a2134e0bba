import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compilePattern,
  makeSnippet,
  readTextFile,
  resolveSearchPath,
  type SearchOptions,
  searchCodebase,
} from "../../src/shipped/codebase-search.js";
import { ToolError } from "../../src/toolgate.js";
import { type CodebaseFixture, LARGE_FILE_LIMIT, makeCodebaseFixture } from "./fixture.js";

let fx: CodebaseFixture;
beforeAll(async () => {
  fx = await makeCodebaseFixture();
});
afterAll(() => rm(fx.base, { recursive: true, force: true }));

const search = (options: Partial<SearchOptions> & { query: string }) =>
  searchCodebase({ root: fx.root, maxFileBytes: LARGE_FILE_LIMIT, maxFiles: 1000, timeoutMs: 5000, ...options });
const paths = (r: { matches: { path: string }[] }) => [...new Set(r.matches.map((m) => m.path))].sort();

describe("searchCodebase", () => {
  it("finds a literal, case-insensitively by default, skipping ignored, binary, large and linked files", async () => {
    const r = await search({ query: "needle", limit: 500 });
    expect(paths(r)).toEqual([
      "a.txt",
      "crlf.txt",
      "keep.log", // re-included by `!keep.log`
      "long.txt",
      "src/deep/keep.ts",
      "src/main.ts",
      "unicode.txt",
    ]);
    expect(r.truncated).toBe(false);
    // a.txt, special.txt, .gitignore x2, main.ts, keep.ts, keep.log, long, unicode, crlf, lines, catastrophic
    expect(r.filesSearched).toBe(12);
    expect(r.matches.filter((m) => m.path === "a.txt").map((m) => [m.line, m.column, m.snippet])).toEqual([
      [1, 7, "hello needle world"],
      [2, 1, "Needle with a capital"],
    ]);
  });

  it("matches case exactly when asked", async () => {
    const r = await search({ query: "NEEDLE", caseSensitive: true });
    expect(r.matches).toEqual([{ path: "src/main.ts", line: 2, column: 6, snippet: "// NEEDLE in upper case" }]);
  });

  it("treats a literal's regex characters literally", async () => {
    const r = await search({ query: "a.b" });
    expect(r.matches).toEqual([{ path: "special.txt", line: 1, column: 1, snippet: "a.b and a*b" }]);
  });

  it("runs a regular expression", async () => {
    const r = await search({ query: "^const\\s+\\w+\\s*=", regex: true });
    expect(r.matches).toEqual([{ path: "src/main.ts", line: 1, column: 1, snippet: "const needle = 1;" }]);
    const anchored = await search({ query: "needle$", regex: true });
    expect(paths(anchored)).toEqual(["crlf.txt", "unicode.txt"]); // per line, \r\n stripped
  });

  it("refuses an invalid regular expression with the syntax error", async () => {
    await expect(search({ query: "(unclosed", regex: true })).rejects.toThrow(ToolError);
    await expect(search({ query: "(unclosed", regex: true })).rejects.toThrow(
      "Invalid regular expression: /(unclosed/i: Unterminated group",
    );
    expect(() => compilePattern("[", true, true)).toThrow(/Invalid regular expression/);
    expect(compilePattern("[", false, true)).toEqual({ source: "\\[", flags: "" });
  });

  it("counts columns in characters and shortens long lines around the match", async () => {
    const u = await search({ query: "needle", path: "unicode.txt" });
    expect(u.matches).toEqual([{ path: "unicode.txt", line: 1, column: 4, snippet: "😀😀 needle" }]);
    const long = await search({ query: "needle", path: "long.txt" });
    const m = long.matches[0]!;
    expect(m.column).toBe(1201);
    expect(m.snippet.length).toBeLessThanOrEqual(200);
    expect(m.snippet).toMatch(/^….*needle.*…$/);
  });

  it("restricts the search to a folder or a file below the root", async () => {
    expect(paths(await search({ query: "needle", path: "src" }))).toEqual(["src/deep/keep.ts", "src/main.ts"]);
    expect(paths(await search({ query: "needle", path: "./src/deep/" }))).toEqual(["src/deep/keep.ts"]);
    expect(paths(await search({ query: "needle", path: "src\\deep" }))).toEqual(["src/deep/keep.ts"]);
    expect(paths(await search({ query: "needle", path: "src/main.ts" }))).toEqual(["src/main.ts"]);
  });

  it.each([
    ["..", '".."'],
    ["../private", '".."'],
    ["src/../../private", '".."'],
    ["/etc", "relative"],
    [`${"/"}tmp`, "relative"],
    ["C:\\Windows", "relative"],
    ["\\\\server\\share", "relative"],
    ["link-out", "outside the search root"],
    ["link-out/secret.txt", "outside the search root"],
    ["link-file.txt", "outside the search root"],
    ["src\u0000", "NUL"],
    ["build", "excluded"],
    ["ignored.txt", "excluded"],
    ["src/secret.ts", "excluded"],
    ["node_modules/pkg", "excluded"],
    [".git", "excluded"],
    ["no/such/folder", "not found"],
    ["build/no-such-file", "excluded"], // refused before it is looked up: no hint whether it exists
    ["x.log", "excluded"],
  ])("refuses path %j", async (path, message) => {
    const error = await search({ query: "needle", path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toContain(message);
  });

  it("stops at the limit and says there is more", async () => {
    const r = await search({ query: "repeat line", path: "many", limit: 10 });
    expect(r.matches).toHaveLength(10);
    expect(r.truncated).toBe(true);
    expect(r.matches.map((m) => m.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const all = await search({ query: "repeat line", path: "many", limit: 120 });
    expect(all.matches).toHaveLength(120);
    expect(all.truncated).toBe(false);
  });

  it("reads at most maxFiles files", async () => {
    const r = await search({ query: "needle", maxFiles: 2 });
    expect(r.truncated).toBe(true);
    expect(r.filesSearched).toBeLessThanOrEqual(2);
  });

  it("terminates a catastrophic regular expression at the time budget", async () => {
    const started = performance.now();
    const r = await search({ query: "(a+)+$", regex: true, path: "catastrophic.txt", timeoutMs: 300 });
    const elapsed = performance.now() - started;
    expect(r).toEqual({ matches: [], truncated: true, filesSearched: 0 });
    expect(elapsed).toBeLessThan(300 + 700);
  });

  it("keeps the matches found before the budget ran out", async () => {
    // a.txt is searched (and matches) before catastrophic.txt hangs the worker
    const r = await search({ query: "^(hello|(a+)+$)", regex: true, timeoutMs: 500 });
    expect(r.truncated).toBe(true);
    expect(r.matches).toEqual([{ path: "a.txt", line: 1, column: 1, snippet: "hello needle world" }]);
  });

  it("a search that stops at its limit leaves no runaway work for the next search", async () => {
    // a.txt gives two hits for limit 1 while catastrophic.txt, read ahead, is already in the worker
    const first = await search({ query: "^(hello|Needle)|(a+)+$", regex: true, limit: 1 });
    expect(first.matches).toHaveLength(1);
    expect(first.truncated).toBe(true);
    const started = performance.now();
    const next = await search({ query: "deep down" });
    expect(next.matches.map((m) => m.path)).toEqual(["src/deep/keep.ts"]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("stops when the request is cancelled", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 100);
    const r = await search({ query: "(a+)+$", regex: true, path: "catastrophic.txt", signal: controller.signal });
    expect(r.truncated).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("a search already cancelled returns at once, even while every search slot is taken", async () => {
    const cancelled = AbortSignal.abort();
    const slow = Array.from({ length: 8 }, () =>
      search({ query: "(a+)+$", regex: true, path: "catastrophic.txt", timeoutMs: 1500 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200)); // they hold the slots now
    const started = performance.now();
    const r = await search({ query: "needle", signal: cancelled });
    expect(r).toEqual({ matches: [], truncated: true, filesSearched: 0 });
    expect(performance.now() - started).toBeLessThan(500);
    await Promise.all(slow);
  });

  // mkfifo and /dev/zero are POSIX's.
  it.skipIf(process.platform === "win32")(
    "a .gitignore that is a link to /dev/zero or a FIFO is not read (the search finishes); a link to a file is",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "toolgate-gitignore-"));
      try {
        await writeFile(join(dir, "a.txt"), "needle in a\n");
        await mkdir(join(dir, "fifo"));
        await writeFile(join(dir, "fifo", "b.txt"), "needle in b\n");
        execFileSync("mkfifo", [join(dir, "fifo", ".gitignore")]);
        await mkdir(join(dir, "linked"));
        await writeFile(join(dir, "linked", "c.txt"), "needle in c\n");
        await writeFile(join(dir, "linked-rules"), "c.txt\n");
        await symlink(join(dir, "linked-rules"), join(dir, "linked", ".gitignore"));
        await symlink("/dev/zero", join(dir, ".gitignore"));
        const started = performance.now();
        const results = await Promise.all(
          Array.from({ length: 6 }, () =>
            searchCodebase({ root: dir, query: "needle", maxFileBytes: 4096, maxFiles: 100, timeoutMs: 3000 }),
          ),
        );
        for (const r of results) {
          expect(r.truncated).toBe(false);
          // linked/.gitignore -> a file hiding c.txt: its rules apply (they only ever hide files)
          expect(paths(r)).toEqual(["a.txt", "fifo/b.txt"]);
        }
        // and the file system stays usable (no thread of libuv's pool is left waiting on the FIFO)
        expect(await readTextFile(join(dir, "a.txt"), 4096)).toBe("needle in a\n");
        expect(performance.now() - started).toBeLessThan(2500);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it("serves many searches at once", async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => search({ query: "needle", path: "src" })));
    for (const r of results) expect(paths(r)).toEqual(["src/deep/keep.ts", "src/main.ts"]);
  });
});

describe("helpers", () => {
  it("makeSnippet keeps short lines (trimmed) and cuts long ones to 200 characters", () => {
    expect(makeSnippet("   x = 1;  ", 3, 4)).toBe("x = 1;");
    const line = `${"x".repeat(500)}MATCH${"y".repeat(500)}`;
    const s = makeSnippet(line, 500, 505);
    expect(s.length).toBe(200);
    expect(s).toContain("MATCH");
    expect(s.startsWith("…") && s.endsWith("…")).toBe(true);
    expect(makeSnippet(line, 0, 1).startsWith("x")).toBe(true);
    expect(makeSnippet(line, 1004, 1005).endsWith("y")).toBe(true);
    // a match longer than the snippet is cut, never the limit exceeded
    expect(makeSnippet("z".repeat(1000), 0, 1000).length).toBeLessThanOrEqual(200);
  });

  it("makeSnippet never splits a surrogate pair", () => {
    const line = "😀".repeat(300);
    for (const start of [100, 101, 102, 103]) {
      const s = makeSnippet(line, start, start + 2);
      expect(s.length).toBeLessThanOrEqual(200);
      expect(Buffer.from(s, "utf8").toString("utf8")).toBe(s); // no lone surrogate
    }
  });

  it("readTextFile skips binary, large, linked and missing files", async () => {
    expect(await readTextFile(`${fx.root}/a.txt`, 1000)).toContain("hello needle world");
    expect(await readTextFile(`${fx.root}/bin.dat`, 1000)).toBeUndefined();
    expect(await readTextFile(`${fx.root}/large.txt`, LARGE_FILE_LIMIT)).toBeUndefined();
    expect(await readTextFile(`${fx.root}/large.txt`, LARGE_FILE_LIMIT + 100)).toContain("needle");
    expect(await readTextFile(`${fx.root}/link-file.txt`, 1000)).toBeUndefined();
    expect(await readTextFile(`${fx.root}/nope.txt`, 1000)).toBeUndefined();
    expect(await readTextFile(`${fx.root}/src`, 1000)).toBeUndefined();
  });

  it("resolveSearchPath returns the real relative path", async () => {
    const { realpath } = await import("node:fs/promises");
    const root = await realpath(fx.root);
    expect(await resolveSearchPath(root, undefined)).toMatchObject({ rel: "", isDirectory: true });
    expect(await resolveSearchPath(root, ".")).toMatchObject({ rel: "", isDirectory: true });
    expect(await resolveSearchPath(root, "src//deep/")).toMatchObject({ rel: "src/deep", isDirectory: true });
    expect(await resolveSearchPath(root, "a.txt")).toMatchObject({ rel: "a.txt", isDirectory: false });
    // the rules of the root and of src/.gitignore apply inside src
    expect((await resolveSearchPath(root, "src")).levels.map((l) => l.base)).toEqual(["", "src"]);
  });
});
