import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DocsFolder, renderDocument, slugify, yamlString } from "../../src/shipped/docs-folder.js";
import { ToolError } from "../../src/toolgate.js";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "toolgate-docs-unit-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const author = { userId: "u0123456789abcdef", subject: "alice" };

describe("slugify", () => {
  it.each([
    ["Hello, World!", "hello-world"],
    ["  Release notes -- v2.0  ", "release-notes-v2-0"],
    ["Café Menü", "cafe-menu"],
    ["Straße", "strasse"],
    ["ＡＢＣ　１２３", "abc-123"], // fullwidth letters, digits and space (NFKC)
    ["../../etc/passwd", "etc-passwd"],
    ["．．／．．／secret", "secret"], // fullwidth dots and slash
    ["a\\b/c", "a-b-c"],
    ["x\u202Egpj.exe", "x-gpj-exe"],
    ["CON", "con-doc"],
    ["nul", "nul-doc"],
    ["ﬁle", "file"],
  ])("%j → %j", (title, slug) => {
    expect(slugify(title)).toBe(slug);
  });

  it("is at most 80 characters and never ends with a hyphen", () => {
    expect(slugify("a".repeat(200))).toHaveLength(80);
    expect(slugify(`${"a".repeat(79)} b`)).toBe("a".repeat(79));
  });

  it.each(["..", "/", "．．", "—", "日本語", "   ", "!!!"])("%j has no slug", (title) => {
    expect(slugify(title)).toBe("");
  });
});

describe("front matter", () => {
  it.each([
    "plain",
    'say "hi"',
    "key: value\n---\nother: 1",
    "tab\tand \\ backslash",
    "zero\u200bwidth \ufeff bom \u00ad soft",
    "rtl \u202e override \u2066 isolate",
    "line\u2028separator",
    "flag 🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f} and 😀",
    "nul \u0000 del \u007f c1 \u0085",
    "# not a comment & *not an alias",
  ])("front matter reads back exactly: %j", (title) => {
    const text = renderDocument({ title, body: "x", tags: [title], author: { userId: "u1", subject: title } });
    const yaml = text.slice(4, text.indexOf("\n---\n", 4));
    for (const line of yaml.split("\n")) expect(line).not.toMatch(/[\p{Cc}\p{Cf}\u2028\u2029]/u); // nothing invisible
    expect(parse(yaml)).toMatchObject({ title, tags: [title], author: "u1", author_subject: title });
  });

  it("quotes every string and escapes invisible characters", () => {
    expect(yamlString('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
    expect(yamlString("a\u202Eb\u2028c")).toBe('"a\\u202eb\\u2028c"');
    const text = renderDocument({
      title: "Title: with --- dashes",
      body: "# Heading\n\nText",
      tags: ["x", "y z"],
      author,
      created: new Date("2026-01-02T03:04:05.000Z"),
    });
    expect(text).toBe(
      [
        "---",
        'title: "Title: with --- dashes"',
        'tags: ["x", "y z"]',
        'author: "u0123456789abcdef"',
        'author_subject: "alice"',
        "created: 2026-01-02T03:04:05.000Z",
        "---",
        "",
        "# Heading",
        "",
        "Text",
        "",
      ].join("\n"),
    );
  });
});

describe("DocsFolder", () => {
  for (const hardLinks of [true, false]) {
    describe(hardLinks ? "with hard links" : "without hard links (O_EXCL reservation)", () => {
      let dir: string;
      let folder: DocsFolder;
      beforeAll(async () => {
        dir = join(tmp, `docs-${hardLinks}`, "nested");
        folder = new DocsFolder(dir, { hardLinks });
      });

      it("creates the folder and the document", async () => {
        const r = await folder.write({ title: "First doc", body: "hello", author });
        expect(r).toEqual({ path: "first-doc.md", created: true, bytes: expect.any(Number) });
        const text = await readFile(join(dir, "first-doc.md"), "utf8");
        expect(Buffer.byteLength(text)).toBe(r.bytes);
        expect(text).toContain('title: "First doc"');
        expect(text.endsWith("hello\n")).toBe(true);
      });

      it("refuses to replace without overwrite, replaces with it", async () => {
        await expect(folder.write({ title: "first DOC", body: "again", author })).rejects.toThrow(
          "A document named first-doc.md already exists",
        );
        const r = await folder.write({ title: "First doc", body: "replaced", author, overwrite: true });
        expect(r.created).toBe(false);
        expect(await readFile(join(dir, "first-doc.md"), "utf8")).toContain("replaced");
      });

      it("lets exactly one of many racing creates win", async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => folder.write({ title: "Race", body: `writer ${i}`, author })),
        );
        const won = results.filter((r) => r.status === "fulfilled");
        expect(won).toHaveLength(1);
        for (const r of results)
          if (r.status === "rejected") expect((r.reason as Error).message).toContain("already exists");
        const text = await readFile(join(dir, "race.md"), "utf8");
        expect(text).toMatch(/writer \d+\n$/);
      });

      it("leaves no temporary files behind", async () => {
        expect((await readdir(dir)).filter((n) => n.startsWith("."))).toEqual([]);
      });
    });
  }

  it("refuses a symbolic link planted at the target name, with or without overwrite", async () => {
    const dir = join(tmp, "planted");
    await mkdir(dir);
    const victim = join(tmp, "victim.txt");
    await writeFile(victim, "original");
    await symlink(victim, join(dir, "planted.md"));
    await symlink(join(tmp, "does-not-exist.txt"), join(dir, "dangling.md"));
    const folder = new DocsFolder(dir);
    for (const overwrite of [false, true]) {
      await expect(folder.write({ title: "planted", body: "pwned", author, overwrite })).rejects.toThrow(ToolError);
      await expect(folder.write({ title: "dangling", body: "pwned", author, overwrite })).rejects.toThrow(ToolError);
    }
    expect(await readFile(victim, "utf8")).toBe("original");
    await expect(lstat(join(tmp, "does-not-exist.txt"))).rejects.toThrow();
    expect((await lstat(join(dir, "planted.md"))).isSymbolicLink()).toBe(true);
  });

  it("refuses a folder at the target name", async () => {
    const dir = join(tmp, "folder-at-name");
    await mkdir(join(dir, "taken.md"), { recursive: true });
    const folder = new DocsFolder(dir);
    await expect(folder.write({ title: "taken", body: "x", author, overwrite: true })).rejects.toThrow(ToolError);
  });

  it("refuses a documents folder that is a symbolic link", async () => {
    const real = join(tmp, "elsewhere");
    await mkdir(real);
    const linked = join(tmp, "linked-docs");
    await symlink(real, linked, "dir");
    const folder = new DocsFolder(linked);
    await expect(folder.write({ title: "x", body: "x", author })).rejects.toThrow(/symbolic link/);
    expect(await readdir(real)).toEqual([]);
  });

  it("refuses when the folder is swapped for a link after first use", async () => {
    const dir = join(tmp, "swapped");
    const folder = new DocsFolder(dir);
    await folder.write({ title: "one", body: "1", author });
    await rm(dir, { recursive: true });
    const elsewhere = join(tmp, "swapped-target");
    await mkdir(elsewhere);
    await symlink(elsewhere, dir, "dir");
    await expect(folder.write({ title: "two", body: "2", author })).rejects.toThrow(/symbolic link/);
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it.each([
    ["a\u0000b", /control characters/],
    ["line\nbreak", /control characters/],
    ["evil\u202Etxt.md", /bidirectional/],
    ["..", /Latin letter or digit/],
    ["日本語のメモ", /Latin letter or digit/],
  ])("refuses title %j", async (title, message) => {
    const folder = new DocsFolder(join(tmp, "refusals"));
    await expect(folder.write({ title, body: "x", author })).rejects.toThrow(message);
  });

  it("refuses a new file past DOCS_MAX_FILES and a write past DOCS_MAX_BYTES (ToolErrors naming them); concurrent writes cannot overshoot", async () => {
    const dir = join(tmp, "quota");
    await mkdir(dir);
    await writeFile(join(dir, "already-there.txt"), "12345"); // every regular file counts
    const folder = new DocsFolder(dir);
    const quota = { files: 3, bytes: 100_000 };
    const attempts = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => folder.write({ title: `racing ${i}`, body: "x", author }, quota)),
    );
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(2);
    const reasons = attempts.flatMap((a) => (a.status === "rejected" ? [a.reason] : []));
    expect(reasons).toHaveLength(4);
    for (const reason of reasons) {
      expect(reason).toBeInstanceOf(ToolError);
      expect(reason.message).toMatch(/^The documents folder holds 3 files, the most it may \(DOCS_MAX_FILES=3\)/);
    }
    expect((await readdir(dir)).filter((f) => f.endsWith(".md"))).toHaveLength(2);
    // replacing needs no new file, only room for the difference
    const [done] = (await readdir(dir)).filter((f) => f.endsWith(".md"));
    const title = done!.replace(/\.md$/, "").replace("-", " ");
    await folder.write({ title, body: "longer body", author, overwrite: true }, quota);
    await expect(folder.write({ title, body: "z".repeat(100_000), author, overwrite: true }, quota)).rejects.toThrow(
      /would take the documents folder past 100000 bytes, the most it may hold \(DOCS_MAX_BYTES; it holds \d+\)/,
    );
    // a refused or failed write gives its reservation back
    await folder.write({ title, body: "z".repeat(99_000), author, overwrite: true }, quota);
  });

  it("keeps the count exact under racing overwrites of one document: the quota is neither overshot nor refuses a write that fits", async () => {
    // The reviewer's scenario: with the size a write replaces read before racing writes were placed,
    // each of two racing overwrites subtracted the same old size, and the count drifted (it let
    // 14 new 50 KB documents into a 200,000-byte folder, or refused one with 108 bytes on disk).
    const dir = join(tmp, "quota-race");
    const folder = new DocsFolder(dir);
    const quota = { files: 1000, bytes: 200_000 };
    const big = "x".repeat(50_000);
    const onDisk = async () => {
      let bytes = 0;
      for (const f of await readdir(dir)) bytes += (await lstat(join(dir, f))).size;
      return bytes;
    };
    await folder.write({ title: "victim", body: big, author, overwrite: true }, quota);
    for (let round = 0; round < 100; round++) {
      const results = await Promise.allSettled([
        folder.write({ title: "victim", body: "small", author, overwrite: true }, quota),
        folder.write({ title: "victim", body: big, author, overwrite: true }, quota),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    }
    let created = 0;
    let refusal: Error | undefined;
    for (let i = 0; i < 10 && !refusal; i++) {
      await folder.write({ title: `new ${i}`, body: big, author }, quota).then(
        () => created++,
        (error: Error) => {
          refusal = error;
        },
      );
    }
    const held = await onDisk();
    expect(held).toBeLessThanOrEqual(quota.bytes);
    expect(refusal?.message).toMatch(/would take the documents folder past 200000 bytes/);
    expect(refusal?.message).toContain(`it holds ${held})`); // the count is what is on disk
    const size = Buffer.byteLength(renderDocument({ title: "new 9", body: big, author }));
    expect(held + size).toBeGreaterThan(quota.bytes); // refused only because it did not fit
    expect(created).toBeGreaterThanOrEqual(2);
  });
});
