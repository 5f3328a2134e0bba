import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  closeMemoryStore,
  MAX_RANKED,
  MemoryStore,
  MIGRATIONS,
  memoryStore,
  migrate,
  toFtsQuery,
} from "../../src/shipped/memory-store.js";
import { ToolError } from "../../src/toolgate.js";

let tmp: string;
let store: MemoryStore;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "toolgate-memory-unit-"));
  store = new MemoryStore(join(tmp, "sub", "m.sqlite"));
});
afterAll(async () => {
  store.close();
  closeMemoryStore();
  await rm(tmp, { recursive: true, force: true });
});

describe("toFtsQuery", () => {
  it.each([
    ["dentist", '"dentist"'],
    ["dentist tuesday", '"dentist" OR "tuesday"'],
    ['say "hi"', '"say" OR """hi"""'],
    ["NEAR(a b)", '"NEAR(a" OR "b)"'],
    ["content:secret", '"content:secret"'],
    ["a* ^b -c", '"a*" OR "^b" OR "-c"'],
    ["x x x", '"x"'],
    ["NEAR(", '"NEAR("'],
  ])("%j → %j", (input, fts) => {
    expect(toFtsQuery(input)).toBe(fts);
  });

  it.each(['"', '""', "*", "( )", "   ", "-", ":"])("%j leaves nothing to search", (input) => {
    expect(toFtsQuery(input)).toBeUndefined();
  });

  it("cuts phrases to 16 tokens in all (single words are not counted)", () => {
    const x16 = Array(16).fill("x").join(" ");
    expect(toFtsQuery(`${Array(10).fill("x").join(".")} v.w y.z.z.z.z.z.z q`)).toBe(
      `"${Array(10).fill("x").join(".")}" OR "v.w" OR "y z z z" OR "q"`,
    );
    expect(toFtsQuery(`${Array(30).fill("x").join(".")} y.z w`)).toBe(`"${x16}" OR "y" OR "w"`);
    expect(toFtsQuery(Array(40).fill("x").join("-"))).toBe(`"${x16}"`);
  });

  it("searches one phrase once, however it is written", () => {
    expect(toFtsQuery("a.b a-b A.B Dentist dentist")).toBe('"a.b" OR "Dentist"');
  });

  it("keeps at most 32 terms", () => {
    const q = toFtsQuery(Array.from({ length: 100 }, (_, i) => `t${i}`).join(" "))!;
    expect(q.split(" OR ")).toHaveLength(32);
  });
});

/** A fresh in-memory store for one test, closed after it. */
/** The SQL of every statement `run` executes on the store's database (get, all, run, iterate), in order. */
function countStatements<T>(store: MemoryStore, run: () => T): { result: T; sql: string[] } {
  const Statement = Object.getPrototypeOf(store.db.prepare("SELECT 1")) as Record<string, unknown>;
  const sql: string[] = [];
  const spies = (["get", "all", "run", "iterate"] as const).map((method) => {
    const original = Statement[method] as (this: { source: string }, ...args: unknown[]) => unknown;
    return vi.spyOn(Statement as Record<string, (...args: unknown[]) => unknown>, method).mockImplementation(function (
      this: { source: string },
      ...args: unknown[]
    ) {
      sql.push(this.source.trim());
      return original.apply(this, args);
    });
  });
  try {
    return { result: run(), sql };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

function withStore<T>(test: (store: MemoryStore) => T): T {
  const store = new MemoryStore(":memory:");
  try {
    return test(store);
  } finally {
    store.close();
  }
}

describe("MemoryStore", () => {
  it("creates the schema with WAL and the migrations recorded", () => {
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    expect(store.db.pragma("busy_timeout", { simple: true })).toBe(5000);
  });

  // Windows has no file modes: the folder's ACL decides who reads the database (docs say so).
  it.skipIf(process.platform === "win32")("creates the database file readable by its owner only (0600)", () => {
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
  });

  it("stores with a random URL-safe id and finds by words, best match first", () => {
    const a = store.store("alice", "The dentist appointment is on Tuesday at ten", ["health"]);
    const b = store.store("alice", "Buy milk, eggs and bread", ["shopping", "weekly list"]);
    const c = store.store("alice", "Dentist, dentist, dentist: call the dentist back", []);
    expect(a.id).toMatch(/^m_[A-Za-z0-9_-]{22}$/);
    expect(new Date(a.createdAt).toISOString()).toBe(a.createdAt);
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);

    const found = store.search("alice", "dentist");
    expect(found.map((m) => m.id)).toEqual([c.id, a.id]);
    expect(found[1]).toEqual({
      id: a.id,
      content: "The dentist appointment is on Tuesday at ten",
      snippet: "The **dentist** appointment is on Tuesday at ten",
      tags: ["health"],
      createdAt: a.createdAt,
    });
    expect(store.search("alice", "weekly").map((m) => m.id)).toEqual([b.id]); // tags are indexed
    expect(store.search("alice", "DENTIST tuesday")[0]!.id).toBe(a.id); // more terms rank higher
    expect(store.search("alice", "dentist", 1)).toHaveLength(1);
  });

  it.each(['"', "NEAR(", "NEAR(a, b", "dentist OR", "AND", "*", "col:dentist", '"unbalanced', "^", "x AND NOT y"])(
    "never fails on FTS syntax in the query: %j",
    (query) => {
      expect(() => store.search("alice", query)).not.toThrow();
    },
  );

  it("keeps users apart in search and delete", () => {
    const mine = store.store("bob", "bob's pineapple recipe");
    expect(store.search("alice", "pineapple")).toEqual([]);
    expect(store.delete("alice", mine.id)).toBe(false);
    expect(store.search("bob", "pineapple").map((m) => m.id)).toEqual([mine.id]);
    expect(store.delete("bob", "m_doesnotexist")).toBe(false);
    expect(store.delete("bob", mine.id)).toBe(true);
    expect(store.delete("bob", mine.id)).toBe(false);
    expect(store.search("bob", "pineapple")).toEqual([]);
  });

  it("ranks from the caller's own memories: other users' words do not change the order of one's results", () => {
    // bm25 would weigh "zebracorp" by how many memories of *all* users hold it: the order of the
    // attacker's own two results would then say whether the victim wrote that word.
    const order = (victimWrites: boolean) =>
      withStore((s) => {
        if (victimWrites) for (let i = 0; i < 20; i++) s.store("victim", `zebracorp merger note ${i}`);
        for (let i = 0; i < 20; i++) s.store("victim", `quokka sighting ${i}`);
        const z = s.store("mallory", "zebracorp");
        const q1 = s.store("mallory", "quokka");
        const q2 = s.store("mallory", "quokka");
        const ids = s.search("mallory", "zebracorp quokka").map((m) => m.id);
        return ids.map((id) => (id === z.id ? "z" : id === q1.id ? "q1" : id === q2.id ? "q2" : "?"));
      });
    expect(order(true)).toEqual(order(false));
    // one term each, the same count: the newest first
    expect(order(false)).toEqual(["q2", "q1", "z"]);
  });

  it("ranks more of the query's words first, then more occurrences, then the newest", () => {
    withStore((s) => {
      const once = s.store("u", "Café meeting");
      const twice = s.store("u", "cafe, CAFÉ and more cafe");
      const both = s.store("u", "the café on Rue Nord", ["meeting-notes"]);
      const newest = s.store("u", "another café");
      expect(s.search("u", "café meeting").map((m) => m.id)).toEqual([both.id, once.id, twice.id, newest.id]);
      expect(s.search("u", "cafe").map((m) => m.id)).toEqual([twice.id, newest.id, both.id, once.id]);
    });
  });

  it("an older memory holding every word ranks first even when more than 500 newer ones hold one", () => {
    withStore((s) => {
      const budget = s.store("u", "budget meeting with finance on friday");
      for (let i = 0; i < 600; i++) s.store("u", `weekly meeting notes ${i}`);
      const found = s.search("u", "budget meeting", 3);
      expect(found[0]?.id).toBe(budget.id);
      expect(found[1]?.content).toBe("weekly meeting notes 599");
    });
  });

  it("a NUL or another control character in the query separates words instead of failing", () => {
    withStore((s) => {
      const m = s.store("u", "alpha beta");
      expect(s.search("u", "alpha\u0000beta").map((r) => r.id)).toEqual([m.id]);
      expect(s.search("u", "\u0001beta\u0007").map((r) => r.id)).toEqual([m.id]);
      expect(toFtsQuery("a\u0000b")).toBe('"a" OR "b"');
    });
  });

  it("removes deleted memories from the full-text index", () => {
    const m = store.store("carol", "ephemeral zebra");
    expect(store.delete("carol", m.id)).toBe(true);
    const n = store.db.prepare("SELECT count(*) AS n FROM memories_fts WHERE memories_fts MATCH 'zebra'").get() as {
      n: number;
    };
    expect(n.n).toBe(0);
  });

  it("reopens an existing database without migrating again, and refuses a newer schema", () => {
    const file = join(tmp, "reopen.sqlite");
    const first = new MemoryStore(file);
    first.store("dave", "persisted note");
    first.close();
    const second = new MemoryStore(file);
    expect(second.search("dave", "persisted")).toHaveLength(1);
    second.db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    second.close();
    expect(() => new MemoryStore(file)).toThrow(/newer than this toolgate knows/);
  });

  it("applies migrations one by one in transactions", () => {
    const db = new Database(":memory:");
    expect(migrate(db, ["CREATE TABLE a (x)", "CREATE TABLE b (y)"])).toBe(2);
    expect(migrate(db, ["CREATE TABLE a (x)", "CREATE TABLE b (y)", "CREATE TABLE c (z)"])).toBe(3);
    // a failing migration rolls back entirely and leaves the version alone
    expect(() => migrate(db, ["", "", "", "CREATE TABLE d (w); CREATE TABLE a (x)"])).toThrow();
    expect(db.pragma("user_version", { simple: true })).toBe(3);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'd'").get()).toBeUndefined();
    db.close();
  });

  it("shares one handle per database file", () => {
    const file = join(tmp, "shared.sqlite");
    expect(memoryStore(file)).toBe(memoryStore(file));
    closeMemoryStore();
  });
});

describe("MemoryStore search: bounded work, the same snippets as FTS5", () => {
  /** FTS5's own snippet() of memory `id` for `query`: what search returned before it built snippets itself. */
  const ftsSnippet = (s: MemoryStore, id: string, query: string) =>
    (
      s.db
        .prepare(
          `SELECT snippet(memories_fts, 0, '**', '**', '…', 16) AS snippet
             FROM memories_fts JOIN memories AS m ON m.seq = memories_fts.rowid
            WHERE memories_fts MATCH ? AND m.id = ?`,
        )
        .get(toFtsQuery(query), id) as { snippet: string }
    ).snippet;

  /**
   * Random memories of `words` and `separators` (a seeded generator), each searched for: how many
   * were found, and where the snippet differs from FTS5's snippet() on the same memory and query.
   */
  function compareWithFts(
    s: MemoryStore,
    options: {
      seed: number;
      rounds: number;
      user: string;
      words: string[];
      separators: string[];
      length: (round: number, random: (n: number) => number) => number;
      leading: (random: (n: number) => number) => string;
      query: (random: (n: number) => number) => string;
    },
  ) {
    let seed = options.seed;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const { words, separators } = options;
    const checked = { memories: 0, different: [] as string[] };
    for (let round = 0; round < options.rounds; round++) {
      const length = options.length(round, random);
      let content = options.leading(random);
      for (let i = 0; i < length; i++) content += words[random(words.length)]! + separators[random(separators.length)]!;
      const m = s.store(`${options.user}${round}`, content);
      const query = options.query(random);
      const found = s.search(`${options.user}${round}`, query);
      if (found.length === 0) continue;
      checked.memories++;
      const expected = ftsSnippet(s, m.id, query);
      if (found[0]!.snippet !== expected)
        checked.different.push(`${JSON.stringify(content)} / ${query}: ${found[0]!.snippet} ≠ ${expected}`);
    }
    return checked;
  }

  it("makes the snippet FTS5's snippet() makes, on random memories and queries", () => {
    withStore((s) => {
      const words = ["alpha", "beta", "Gamma", "délta", "eps", "zeta", "eta", "theta"];
      const checked = compareWithFts(s, {
        seed: 42,
        rounds: 300,
        user: "u",
        words,
        separators: [" ", " ", " ", ", ", ". ", ": ", "\n", " - ", "  ", ".", "(", ") "],
        length: (round, random) => 1 + random(round % 3 === 0 ? 120 : 30),
        leading: (random) => (random(4) === 0 ? "  " : ""),
        query: (random) =>
          Array.from({ length: 1 + random(3) }, () =>
            random(4) === 0 ? `${words[random(4)]}.${words[random(4)]}` : words[random(words.length)]!,
          ).join(" "),
      });
      expect(checked.different).toEqual([]);
      expect(checked.memories).toBeGreaterThan(200);
    });
  });

  it("makes FTS5's snippet on compatibility characters too (unicode61 decomposes canonically, not NFKD)", () => {
    withStore((s) => {
      const words = ["alpha", "Ａｌｐｈａ", "ﬁle", "file", "½", "x²", "Ǆemal", "ǅemal", "ŉ", "ﬀ", "café", "cafe\u0301"];
      const checked = compareWithFts(s, {
        seed: 7,
        rounds: 200,
        user: "c",
        words,
        separators: [" ", " ", ", ", ". ", ": ", "\n"],
        length: (round, random) => 1 + random(round % 3 === 0 ? 60 : 20),
        leading: () => "",
        query: (random) => Array.from({ length: 1 + random(2) }, () => words[random(words.length)]!).join(" "),
      });
      expect(checked.different).toEqual([]);
      expect(checked.memories).toBeGreaterThan(40); // 56: a query word NFKC folds (Ａｌｐｈａ → alpha) finds no compatibility form
    });
  });

  it("a match only in the tags: the content's first 16 tokens, nothing in bold", () => {
    withStore((s) => {
      const content = Array.from({ length: 30 }, (_, i) => `word${i}`).join(" ");
      const m = s.store("u", content, ["findme"]);
      const [found] = s.search("u", "findme");
      expect(found?.snippet).toBe(ftsSnippet(s, m.id, "findme"));
      expect(found?.snippet).toBe(`${content.split(" ").slice(0, 16).join(" ")}…`);
    });
  });

  it("one search of memories holding thousands of hits reads a bounded number of rows and no FTS5 snippet() (was ~0.1 s per memory ranked)", () => {
    withStore((s) => {
      const content = "a ".repeat(5000).trim();
      s.db.transaction(() => {
        for (let i = 0; i < 150; i++) s.store("mallory", content);
      })();
      const newest = s.search("mallory", "a", 1)[0]!.id;
      const snippetOfA = ftsSnippet(s, newest, "a"); // one snippet() call: ~0.1 s
      expect(snippetOfA).toBe(`${"**a** ".repeat(16).trim()}…`);
      for (const [query, limit] of [
        ["a", 10],
        ["a", 100],
        ["a a.a a.a.a", 100],
        [
          Array.from({ length: 12 }, (_, i) =>
            Array(i + 1)
              .fill("a")
              .join("."),
          ).join(" "),
          100,
        ],
      ] as const) {
        // What the search executes, counted structurally (the time it takes is the benchmark's
        // business: bench/tmp scripts, never a timed unit test): which statements, how many rows read.
        const executed = countStatements(s, () => s.search("mallory", query, limit));
        const found = executed.result;
        expect(found).toHaveLength(limit);
        expect(found[0]!.id).toBe(newest);
        if (query === "a") expect(found[0]!.snippet).toBe(snippetOfA);
        else expect(found[0]!.snippet).toMatch(/^\*\*a a a .*\*\*…$/); // overlapping hits: one bold run
        // snippet()/highlight() over thousands of hits per row was the cost; snippets are JavaScript's now
        expect(executed.sql.filter((sql) => /\b(snippet|highlight)\s*\(/i.test(sql))).toEqual([]);
        // one ranking query; then a memory's row read only for the MAX_RANKED newest of the 150 holding all
        expect(executed.sql.filter((sql) => /\bMATCH\b/.test(sql))).toHaveLength(1);
        const rowReads = executed.sql.filter((sql) => sql.startsWith("SELECT id, content, tags")).length;
        expect(rowReads).toBe(MAX_RANKED);
      }
    });
  });
});

describe("MemoryStore search: phrases checked in JavaScript, FTS5 limited to the caller's rows", () => {
  it("finds a phrase only where its tokens are in order; its tokens alone do not count for it", () => {
    withStore((s) => {
      const inOrder = s.store("u", "the red apple fell");
      s.store("u", "an apple, red and round"); // both tokens, not the phrase
      const both = s.store("u", "red apple pie, and apple"); // the phrase, and the word
      expect(s.search("u", "red.apple").map((m) => m.id)).toEqual([both.id, inOrder.id]);
      expect(s.search("u", "red-apple")[0]!.snippet).toBe("**red apple** pie, and apple");
      // a memory holding the word but not the phrase ranks below those holding both terms
      const ids = s.search("u", "red.apple apple").map((m) => m.id);
      expect(ids.slice(0, 2)).toEqual([both.id, inOrder.id]);
      expect(ids).toHaveLength(3);
      // a phrase across the content and the tags is not a phrase
      s.store("v", "a note ending in red", ["apple"]);
      expect(s.search("v", "red.apple")).toEqual([]);
      expect(s.search("v", "apple")).toHaveLength(1);
    });
  });

  it("matches the caller's rows only, through the owner token (another user's id in the query finds nothing)", () => {
    withStore((s) => {
      s.store("alice", "shared words here");
      s.store("bob", "shared words here");
      const owner = `u${Buffer.from("bob").toString("hex")}`;
      expect(s.search("alice", "shared")).toHaveLength(1);
      expect(s.search("alice", owner)).toEqual([]);
      expect(s.search("alice", `shared ${owner}`)).toHaveLength(1);
    });
  });

  it("migration 3 indexes the owners of a database's existing memories", () => {
    const db = new Database(":memory:");
    migrate(db, MIGRATIONS.slice(0, 2));
    const insert = db.prepare("INSERT INTO memories (id, user_id, content, tags, created_at) VALUES (?, ?, ?, ?, '')");
    insert.run("m1", "alice", "hello red apple", "[]");
    insert.run("m2", "bob", "hello world", '["x"]');
    migrate(db);
    const rows = db
      .prepare("SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?")
      .all(`owner : "u${Buffer.from("alice").toString("hex")}" AND "hello"`);
    expect(rows).toHaveLength(1);
    db.close();
  });
});

describe("MemoryStore quota", () => {
  it("refuses a user's memory past the count or the bytes, names the setting, and frees room on delete", () => {
    withStore((s) => {
      const quota = { memories: 2, bytes: 1_000 };
      const first = s.store("u", "one", [], quota);
      s.store("u", "two", ["t"], quota);
      expect(s.usage("u")).toEqual({ memories: 2, bytes: 3 + 2 + 3 + 5 }); // content and tags JSON, UTF-8
      expect(() => s.store("u", "three", [], quota)).toThrow(ToolError);
      expect(() => s.store("u", "three", [], quota)).toThrow(/MEMORY_MAX_PER_USER=2/);
      s.store("other", "three", [], quota); // per user
      expect(s.delete("u", first.id)).toBe(true);
      expect(s.usage("u")).toEqual({ memories: 1, bytes: 8 });
      expect(() => s.store("u", "é".repeat(500), [], quota)).toThrow(/past 1000 bytes.*MEMORY_MAX_BYTES_PER_USER/);
      s.store("u", "é".repeat(495), [], quota); // 990 bytes + "[]": exactly 1000 with the 8 held
      expect(s.usage("u")).toEqual({ memories: 2, bytes: 1_000 });
      expect(s.count("u")).toBe(2);
    });
  });

  it("counts the memories of a database made before the quota (migration 2 fills in the usage)", () => {
    const db = new Database(":memory:");
    migrate(db, MIGRATIONS.slice(0, 1));
    const insert = db.prepare("INSERT INTO memories (id, user_id, content, tags, created_at) VALUES (?, ?, ?, ?, '')");
    insert.run("m1", "a", "hello", "[]");
    insert.run("m2", "a", "wörld", '["x"]');
    insert.run("m3", "b", "z", "[]");
    migrate(db);
    expect(db.prepare("SELECT user_id, memories, bytes FROM memory_usage ORDER BY user_id").all()).toEqual([
      { user_id: "a", memories: 2, bytes: 5 + 2 + 6 + 5 },
      { user_id: "b", memories: 1, bytes: 3 },
    ]);
    db.close();
  });
});

// The query went to FTS5 as JavaScript's folded tokens (NFD, marks removed), which the index does not
// hold for Hangul, kana with voicing marks, й/ё, Greek accents, Thai and Arabic vowel marks: nothing found.
describe("words of any script are found as the index holds them", () => {
  it.each([
    ["한국어 공부 계획", "한국어"],
    ["ガギグ の れんしゅう", "ガギグ"],
    ["зайти за ёлкой", "зайти"],
    ["ёлка на праздник", "ёлка"],
    ["Δείπνο με φίλους", "Δείπνο"],
    ["นัดหมอ วันอังคาร", "นัดหมอ"],
    ["اسم مُحَمَّد هنا", "مُحَمَّد"],
    ["café au lait", "cafe"],
  ])("%s, searched for %s", (content, query) => {
    const user = `script-${content}`;
    store.store(user, content, []);
    expect(store.search(user, query).map((m) => m.content)).toEqual([content]);
  });

  it("a word never matches the owner column: a user's own token finds only what holds it", () => {
    const user = "owner-test";
    store.store(user, "plain note", []);
    const token = `u${Buffer.from(user).toString("hex")}`;
    expect(store.search(user, token)).toEqual([]);
  });

  it("a user id with a lone surrogate finds its own memories", () => {
    const user = "lone\ud800id";
    store.store(user, "dentist on friday", []);
    expect(store.search(user, "dentist").map((m) => m.content)).toEqual(["dentist on friday"]);
  });
});

// SQL picked the 100 newest holding the phrase's words; JavaScript dropped those without the phrase
// and fetched no further: the one memory holding it was not found.
it("a phrase is found behind more than MAX_RANKED newer memories holding its words in another order", () => {
  const user = "phrase-depth";
  store.store(user, "my to-do list: call the dentist", []);
  for (let i = 0; i < 120; i++) store.store(user, `do the laundry, remember to call, week ${i}`, []);
  expect(store.search(user, "to-do").map((m) => m.content)).toEqual(["my to-do list: call the dentist"]);
});
