/**
 * The five shipped tools through a real toolgate server (AUTH_MODE=optional) with real tokens from
 * its development authorization server, obtained over HTTP for two users, alice and bob.
 */
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userIdOf } from "../../src/auth/principal.js";
import { closeMemoryStore } from "../../src/shipped/memory-store.js";
import { readSettings, resetSettings, settings } from "../../src/shipped/settings.js";
import { runOAuthFlow } from "../helpers/oauth-flow.js";
import { legacy, modern, rpc, startTestServer } from "../helpers/server.js";
import { type CodebaseFixture, LARGE_FILE_LIMIT, makeCodebaseFixture } from "./fixture.js";

const SEARCH_TIMEOUT_MS = 1000;

let server: Awaited<ReturnType<typeof startTestServer>>;
let tmp: string;
let fx: CodebaseFixture;
const savedEnv = { ...process.env };
const tokens: Record<"alice" | "bob" | "aliceNoSearch", string> = { alice: "", bob: "", aliceNoSearch: "" };

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "toolgate-tools-it-"));
  fx = await makeCodebaseFixture();
  const env = {
    AUTH_MODE: "optional",
    DATA_DIR: join(tmp, "data"),
    DOCS_DIR: join(tmp, "area", "docs"),
    MEMORY_DB: join(tmp, "m.sqlite"),
    CODEBASE_ROOT: fx.root,
    CODEBASE_ROOT_SIGNED_IN: fx.base,
    CODEBASE_MAX_FILE_BYTES: String(LARGE_FILE_LIMIT),
    CODEBASE_SEARCH_TIMEOUT_MS: String(SEARCH_TIMEOUT_MS),
  };
  // The shipped tools read process.env (once); the server's own settings come from `env`.
  Object.assign(process.env, env);
  resetSettings();
  server = await startTestServer(env);
  const token = async (login: string, scope: string) =>
    (await runOAuthFlow({ issuer: server.url, scope, login, resource: server.auth.resource })).accessToken;
  const all = "search.read docs.write memory.write memory.read memory.delete";
  [tokens.alice, tokens.bob, tokens.aliceNoSearch] = await Promise.all([
    token("alice", all),
    token("bob", all),
    token("alice", "memory.read"),
  ]);
});

afterAll(async () => {
  await server?.close();
  closeMemoryStore();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  resetSettings();
  await rm(tmp, { recursive: true, force: true });
  await rm(fx.base, { recursive: true, force: true });
});

let nextId = 1;
/** One tools/call (2026-07-28 by default); returns the CallToolResult, or the HTTP answer when there is none. */
async function call(name: string, args: Record<string, unknown>, token?: string, era: "modern" | "legacy" = "modern") {
  const built = (era === "modern" ? modern : legacy)("tools/call", { name, arguments: args }, nextId++);
  const headers: Record<string, string> = { ...built.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await rpc(server.mcpUrl, built.message, headers);
  return { status: res.status, result: res.body?.result, headers: res.headers };
}
const text = (result: any): string => result?.content?.[0]?.text ?? "";
async function ok(name: string, args: Record<string, unknown>, token?: string) {
  const { status, result } = await call(name, args, token);
  expect(status, JSON.stringify(result)).toBe(200);
  expect(result.isError, text(result)).toBeFalsy();
  expect(JSON.parse(text(result))).toEqual(result.structuredContent);
  return result.structuredContent;
}
async function refused(name: string, args: Record<string, unknown>, token?: string): Promise<string> {
  const { status, result } = await call(name, args, token);
  expect(status).toBe(200);
  expect(result.isError, JSON.stringify(result)).toBe(true);
  return text(result);
}
const files = (r: { matches: { path: string }[] }) => [...new Set(r.matches.map((m) => m.path))].sort();

describe("codebase.search", () => {
  it("anonymous: a literal, case-insensitive by default, in the anonymous root", async () => {
    const r = await ok("codebase.search", { query: "needle" });
    expect(files(r)).toEqual([
      "a.txt",
      "crlf.txt",
      "keep.log",
      "long.txt",
      "src/deep/keep.ts",
      "src/main.ts",
      "unicode.txt",
    ]);
    expect(r.truncated).toBe(false);
    expect(r.matches[0]).toEqual({ path: "a.txt", line: 1, column: 7, snippet: "hello needle world" });
  });

  it("case-sensitive, regex and path restriction", async () => {
    const exact = await ok("codebase.search", { query: "NEEDLE", caseSensitive: true });
    expect(exact.matches).toEqual([{ path: "src/main.ts", line: 2, column: 6, snippet: "// NEEDLE in upper case" }]);
    const re = await ok("codebase.search", { query: "needle\\s+(deep|=)", regex: true });
    expect(files(re)).toEqual(["src/deep/keep.ts", "src/main.ts"]);
    const sub = await ok("codebase.search", { query: "needle", path: "src/deep" });
    expect(files(sub)).toEqual(["src/deep/keep.ts"]);
  });

  it(".gitignore (root and nested), .git, node_modules, binary and large files are skipped", async () => {
    // every file that holds these is ignored, in .git, in node_modules or binary
    for (const query of ["needle in", "ignored by", "needle \u0000"]) {
      const r = await ok("codebase.search", { query, caseSensitive: true, limit: 500 });
      expect(files(r)).toEqual([]);
    }
    const keep = await ok("codebase.search", { query: "re-included" });
    expect(files(keep)).toEqual(["keep.log"]);
    const bin = await ok("codebase.search", { query: "needle", path: "bin.dat" });
    expect(bin).toEqual({ matches: [], truncated: false, filesSearched: 0 });
    const large = await ok("codebase.search", { query: "needle", path: "large.txt" });
    expect(large).toEqual({ matches: [], truncated: false, filesSearched: 0 });
  });

  it("limit and truncated", async () => {
    const r = await ok("codebase.search", { query: "repeat line", limit: 5 });
    expect(r.matches).toHaveLength(5);
    expect(r.truncated).toBe(true);
  });

  it.each(["../private", "/etc", "link-out", "link-file.txt", "build", "node_modules"])(
    "refuses path %j",
    async (path) => {
      expect(await refused("codebase.search", { query: "needle", path })).toMatch(
        /must not contain|relative|outside the search root|excluded/,
      );
    },
  );

  it("a bad regular expression is refused with its syntax error", async () => {
    expect(await refused("codebase.search", { query: "a(b", regex: true })).toBe(
      "Invalid regular expression: /a(b/i: Unterminated group",
    );
  });

  it("signed in with search.read: the wider root; without it: the anonymous root", async () => {
    const args = { query: "wider-root-marker" };
    expect((await ok("codebase.search", args)).matches).toEqual([]);
    expect((await ok("codebase.search", args, tokens.aliceNoSearch)).matches).toEqual([]);
    const wide = await ok("codebase.search", args, tokens.alice);
    expect(wide.matches.map((m: { path: string }) => m.path)).toEqual(["private/secret.txt"]);
    // paths are relative to the wider root there
    const again = await ok("codebase.search", { query: "hello needle" }, tokens.alice);
    expect(files(again)).toEqual(["public/a.txt"]);
  });

  it("a catastrophic regular expression returns within its time budget, truncated", async () => {
    const started = performance.now();
    const r = await ok("codebase.search", { query: "(a+)+$", regex: true, path: "catastrophic.txt" });
    const elapsed = performance.now() - started;
    expect(r).toEqual({ matches: [], truncated: true, filesSearched: 0 });
    expect(elapsed).toBeLessThan(SEARCH_TIMEOUT_MS + 1000);
    // and the server is still responsive afterwards
    expect((await ok("codebase.search", { query: "hello", path: "a.txt" })).matches).toHaveLength(1);
  });

  it("oversize input is refused by the schema", async () => {
    expect(await refused("codebase.search", { query: "x".repeat(1001) })).toBe(
      "Invalid arguments for tool codebase.search: /query must NOT have more than 1000 characters",
    );
  });
});

/** Every file below `dir` (relative), with its size and link target, to compare before and after. */
async function snapshot(dir: string, skip: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (p === skip) continue;
      const info = await lstat(p);
      out.push(`${relative(dir, p)} ${info.isSymbolicLink() ? "link" : info.isDirectory() ? "dir" : info.size}`);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

describe("docs.create", () => {
  const docsDir = () => settings().docsDir;

  it("needs a token (401 challenge for an anonymous caller)", async () => {
    const { status, headers } = await call("docs.create", { title: "x", body: "y" });
    expect(status).toBe(401);
    expect(headers.get("www-authenticate")).toContain("Bearer");
  });

  it("writes the document with front matter naming the author, and refuses to overwrite unless asked", async () => {
    const r = await ok(
      "docs.create",
      { title: "Meeting Notes: Q3", body: "# Notes\n\nAll good.", tags: ["q3"] },
      tokens.alice,
    );
    expect(r).toEqual({ path: "meeting-notes-q3.md", created: true, bytes: expect.any(Number) });
    const content = await readFile(join(docsDir(), r.path), "utf8");
    expect(Buffer.byteLength(content)).toBe(r.bytes);
    const aliceId = userIdOf(server.url, "alice");
    expect(content).toMatch(
      new RegExp(
        `^---\\ntitle: "Meeting Notes: Q3"\\ntags: \\["q3"\\]\\nauthor: "${aliceId}"\\nauthor_subject: "alice"\\ncreated: \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n---\\n\\n# Notes\\n\\nAll good.\\n$`,
      ),
    );
    expect(await refused("docs.create", { title: "meeting notes q3", body: "other" }, tokens.bob)).toContain(
      "already exists",
    );
    const replaced = await ok("docs.create", { title: "Meeting notes — Q3", body: "v2", overwrite: true }, tokens.bob);
    expect(replaced).toMatchObject({ path: "meeting-notes-q3.md", created: false });
    expect(await readFile(join(docsDir(), r.path), "utf8")).toContain('author_subject: "bob"');
  });

  it("of many racing creates of one title, exactly one wins", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call("docs.create", { title: "Race day", body: `${i}` }, tokens.alice)),
    );
    const won = results.filter((r) => !r.result.isError);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.result.isError)) expect(text(r.result)).toContain("already exists");
  });

  it("no title, symlink or folder trick writes outside the documents folder", async () => {
    const area = join(tmp, "area"); // the documents folder's parent
    const outsideFile = join(area, "victim.md");
    await writeFile(outsideFile, "untouched");
    await mkdir(docsDir(), { recursive: true });
    await symlink(outsideFile, join(docsDir(), "planted.md"));
    await symlink(area, join(docsDir(), "up"), "dir");
    const before = await snapshot(area, docsDir());

    const titles = [
      "../escape",
      "../../escape",
      "/etc/passwd",
      "..",
      "../",
      "./..",
      "..\\..\\windows",
      "．．／．．／fullwidth", // fullwidth dots and slash
      "∕etc∕passwd", // division slash
      "..%2f..%2fencoded",
      "up/escape",
      "up",
      "a\u0000b",
      "\u202Egpj.md",
      "line\nbreak",
      "planted",
      "PLANTED",
      "~/.ssh/authorized_keys",
      "C:\\Windows\\win.ini",
      "\u0085",
    ];
    for (const title of titles) {
      for (const overwrite of [false, true]) {
        const { status, result } = await call("docs.create", { title, body: "pwned", overwrite }, tokens.alice);
        expect(status).toBe(200);
        if (result.isError) continue; // refused
        // or written under a safe name, inside the folder
        expect(result.structuredContent.path).toMatch(/^[a-z0-9][a-z0-9-]*\.md$/);
        expect((await lstat(join(docsDir(), result.structuredContent.path))).isFile()).toBe(true);
      }
    }
    expect(await refused("docs.create", { title: "..", body: "x" }, tokens.alice)).toContain("Latin letter or digit");
    expect(await refused("docs.create", { title: "a\u0000b", body: "x" }, tokens.alice)).toContain("control");
    expect(await refused("docs.create", { title: "x\u202Ey", body: "x" }, tokens.alice)).toContain("bidirectional");
    expect(await refused("docs.create", { title: "planted", body: "x", overwrite: true }, tokens.alice)).toContain(
      "not a regular document",
    );

    expect(await snapshot(area, docsDir())).toEqual(before);
    expect(await readFile(outsideFile, "utf8")).toBe("untouched");
    expect((await lstat(join(docsDir(), "planted.md"))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(docsDir(), "up"))).isSymbolicLink()).toBe(true);
  });

  it("a documents folder that is a symbolic link is refused", async () => {
    const real = join(tmp, "real-docs");
    await mkdir(real);
    const linked = join(tmp, "linked-docs");
    await symlink(real, linked, "dir");
    resetSettings({ ...readSettings(), docsDir: linked });
    try {
      const message = await refused("docs.create", { title: "through the link", body: "x" }, tokens.alice);
      expect(message).toMatch(/internal error \(request id /); // an operator problem: logged, not shown
      expect(await readdir(real)).toEqual([]);
    } finally {
      resetSettings();
    }
  });

  it("past DOCS_MAX_FILES or DOCS_MAX_BYTES a write is refused with a tool error naming the setting", async () => {
    await ok("docs.create", { title: "Quota probe", body: "first" }, tokens.alice);
    const before = settings();
    try {
      resetSettings({ ...before, docsMaxFiles: 1 });
      expect(await refused("docs.create", { title: "One too many", body: "x" }, tokens.alice)).toMatch(
        /^The documents folder holds \d+ files, the most it may \(DOCS_MAX_FILES=1\); no new document can be created\. Replace one with overwrite: true, or ask the operator to remove some or raise DOCS_MAX_FILES\.$/,
      );
      expect(await readdir(docsDir())).not.toContain("one-too-many.md");
      // replacing needs no new file
      await ok("docs.create", { title: "Quota probe", body: "second", overwrite: true }, tokens.alice);
      resetSettings({ ...before, docsMaxBytes: 1_000 });
      expect(await refused("docs.create", { title: "Too big", body: "y".repeat(2_000) }, tokens.bob)).toContain(
        "would take the documents folder past 1000 bytes, the most it may hold (DOCS_MAX_BYTES;",
      );
      expect(await readdir(docsDir())).not.toContain("too-big.md");
    } finally {
      resetSettings(before);
    }
    await ok("docs.create", { title: "Room again", body: "x" }, tokens.alice);
  });

  it("oversize input is refused by the schema", async () => {
    expect(await refused("docs.create", { title: "t".repeat(201), body: "x" }, tokens.alice)).toBe(
      "Invalid arguments for tool docs.create: /title must NOT have more than 200 characters",
    );
    expect(await refused("docs.create", { title: "big", body: "b".repeat(200_001) }, tokens.alice)).toBe(
      "Invalid arguments for tool docs.create: /body must NOT have more than 200000 characters",
    );
  });
});

describe("local_memory_*", () => {
  it("two users never see, find or delete each other's memories", async () => {
    const a = await ok("local_memory_store", { content: "alice likes pineapple pizza", tags: ["food"] }, tokens.alice);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Number.isNaN(Date.parse(a.createdAt))).toBe(false);
    const b = await ok("local_memory_store", { content: "bob hides the pineapple" }, tokens.bob);

    const aliceFinds = await ok("local_memory_search", { query: "pineapple" }, tokens.alice);
    expect(aliceFinds.results.map((m: { id: string }) => m.id)).toEqual([a.id]);
    expect(aliceFinds.results[0]).toEqual({
      id: a.id,
      content: "alice likes pineapple pizza",
      snippet: "alice likes **pineapple** pizza",
      tags: ["food"],
      createdAt: a.createdAt,
    });
    const bobFinds = await ok("local_memory_search", { query: "pineapple pizza alice" }, tokens.bob);
    expect(bobFinds.results.map((m: { id: string }) => m.id)).toEqual([b.id]);

    // bob cannot delete alice's memory, and the answer is the same as for an id that does not exist
    expect(await ok("local_memory_delete", { id: a.id }, tokens.bob)).toEqual({ deleted: false });
    expect(await ok("local_memory_delete", { id: "m_no-such-memory" }, tokens.bob)).toEqual({ deleted: false });
    expect((await ok("local_memory_search", { query: "pineapple" }, tokens.alice)).results).toHaveLength(1);

    expect(await ok("local_memory_delete", { id: a.id }, tokens.alice)).toEqual({ deleted: true });
    expect(await ok("local_memory_delete", { id: a.id }, tokens.alice)).toEqual({ deleted: false });
    expect((await ok("local_memory_search", { query: "pineapple" }, tokens.alice)).results).toEqual([]);
    expect((await ok("local_memory_search", { query: "pineapple" }, tokens.bob)).results).toHaveLength(1);
  });

  it("FTS syntax in a query is searched as text, never an error", async () => {
    await ok("local_memory_store", { content: 'quoted "near" words' }, tokens.alice);
    for (const query of ['"', "NEAR(", "NEAR(a b", "*", "content:near", "a AND OR NOT", "^"]) {
      const r = await ok("local_memory_search", { query }, tokens.alice);
      expect(Array.isArray(r.results)).toBe(true);
    }
    expect((await ok("local_memory_search", { query: 'NEAR("' }, tokens.alice)).results).toHaveLength(1);
  });

  it("needs the right scope: anonymous gets 401, a token without memory.write gets 403", async () => {
    expect((await call("local_memory_store", { content: "x" })).status).toBe(401);
    const { status, headers } = await call("local_memory_store", { content: "x" }, tokens.aliceNoSearch);
    expect(status).toBe(403);
    expect(headers.get("www-authenticate")).toContain('error="insufficient_scope"');
  });

  it("250 concurrent stores lose nothing", async () => {
    const n = 250;
    const stored = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        ok("local_memory_store", { content: `bulk memory number ${i} marker${i}`, tags: ["bulk"] }, tokens.alice),
      ),
    );
    const ids = new Set(stored.map((s) => s.id));
    expect(ids.size).toBe(n);
    // found again through the server, 25 distinct markers per search (OR of quoted terms)
    const found = new Set<string>();
    for (let from = 0; from < n; from += 25) {
      const query = Array.from({ length: 25 }, (_, k) => `marker${from + k}`).join(" ");
      const r = await ok("local_memory_search", { query, limit: 100 }, tokens.alice);
      expect(r.results).toHaveLength(25);
      for (const m of r.results) found.add(m.id);
    }
    expect(found).toEqual(ids);
    // and counted in the database itself
    const db = new Database(settings().memoryDb, { readonly: true });
    try {
      const row = db
        .prepare("SELECT count(*) AS n FROM memories WHERE user_id = ? AND content LIKE 'bulk memory number %'")
        .get(userIdOf(server.url, "alice")) as { n: number };
      expect(row.n).toBe(n);
    } finally {
      db.close();
    }
    // bob sees none of them
    expect((await ok("local_memory_search", { query: "bulk", limit: 100 }, tokens.bob)).results).toEqual([]);
  });

  it("past MEMORY_MAX_PER_USER or MEMORY_MAX_BYTES_PER_USER a store is refused with a tool error naming the setting; other users are not", async () => {
    await ok("local_memory_store", { content: "quota probe" }, tokens.alice);
    const before = settings();
    try {
      resetSettings({ ...before, memoryMaxPerUser: 1 });
      expect(await refused("local_memory_store", { content: "one too many" }, tokens.alice)).toMatch(
        /^You have \d+ memories, the most one user may keep \(MEMORY_MAX_PER_USER=1\)\. Delete some with local_memory_delete, or ask the operator to raise MEMORY_MAX_PER_USER\.$/,
      );
      resetSettings({ ...before, memoryMaxBytesPerUser: 1_000 });
      expect(await refused("local_memory_store", { content: "x".repeat(1_000) }, tokens.bob)).toContain(
        "would take yours past 1000 bytes, the most one user may keep (MEMORY_MAX_BYTES_PER_USER;",
      );
      expect((await ok("local_memory_search", { query: "xxxx" }, tokens.bob)).results).toEqual([]); // nothing stored
    } finally {
      resetSettings(before);
    }
    await ok("local_memory_store", { content: "room again" }, tokens.alice);
  });

  it("oversize input is refused by the schema with a clear message", async () => {
    expect(await refused("local_memory_store", { content: "x".repeat(10_001) }, tokens.alice)).toBe(
      "Invalid arguments for tool local_memory_store: /content must NOT have more than 10000 characters",
    );
    expect(await refused("local_memory_search", { query: "q".repeat(501) }, tokens.alice)).toBe(
      "Invalid arguments for tool local_memory_search: /query must NOT have more than 500 characters",
    );
    expect(await refused("local_memory_delete", { id: "i".repeat(65) }, tokens.alice)).toBe(
      "Invalid arguments for tool local_memory_delete: /id must NOT have more than 64 characters",
    );
  });

  it("works for 2025-era clients too", async () => {
    const { result } = await call("local_memory_search", { query: "bulk", limit: 3 }, tokens.alice, "legacy");
    expect(result.structuredContent.results).toHaveLength(3);
  });
});
