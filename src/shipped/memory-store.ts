/**
 * The private memories behind `local_memory_store`, `local_memory_search` and `local_memory_delete`:
 * one SQLite database (better-sqlite3) in WAL mode, a row per memory owned by a user id, and an FTS5
 * index (results ranked from the user's own memories, not with bm25). Every statement that reads or deletes is scoped by the owner's user id,
 * so a user never sees, finds or deletes another user's memories — and cannot tell whether another
 * user's id exists.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/**
 * Schema migrations, applied in order inside one IMMEDIATE transaction each; `PRAGMA user_version`
 * records how many have run. Append new ones; never edit one that has shipped.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE memories (
     seq        INTEGER PRIMARY KEY,
     id         TEXT NOT NULL UNIQUE,
     user_id    TEXT NOT NULL,
     content    TEXT NOT NULL,
     tags       TEXT NOT NULL DEFAULT '[]',
     created_at TEXT NOT NULL
   ) STRICT;
   CREATE INDEX memories_by_user ON memories (user_id, seq);
   CREATE VIRTUAL TABLE memories_fts USING fts5(
     content, tags,
     content = 'memories', content_rowid = 'seq',
     tokenize = 'unicode61 remove_diacritics 2'
   );
   CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
     INSERT INTO memories_fts (rowid, content, tags) VALUES (new.seq, new.content, new.tags);
   END;
   CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
     INSERT INTO memories_fts (memories_fts, rowid, content, tags) VALUES ('delete', old.seq, old.content, old.tags);
   END;
   CREATE TRIGGER memories_au AFTER UPDATE ON memories BEGIN
     INSERT INTO memories_fts (memories_fts, rowid, content, tags) VALUES ('delete', old.seq, old.content, old.tags);
     INSERT INTO memories_fts (rowid, content, tags) VALUES (new.seq, new.content, new.tags);
   END;`,
];

/** Terms of a search beyond this many are ignored. */
export const MAX_QUERY_TERMS = 32;

/**
 * Turns what a user typed into an FTS5 query that cannot be read as FTS5 syntax: each
 * whitespace-separated term becomes a quoted string (inner `"` doubled), terms with no letter or
 * digit are dropped (they would match nothing), and terms are joined with OR (`search` ranks the
 * memories holding more of them first). Returns undefined when nothing searchable is left.
 */
export function toFtsQuery(text: string): string | undefined {
  const terms = queryTerms(text);
  if (terms.length === 0) return undefined;
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(" OR ");
}

/** The distinct searchable terms of a query. Control characters (NUL…) separate terms: FTS5 refuses them inside a string. */
function queryTerms(text: string): string[] {
  const terms = text
    .normalize("NFKC")
    .split(/[\s\p{Cc}]+/u)
    .filter((t) => /[\p{L}\p{N}]/u.test(t))
    .slice(0, MAX_QUERY_TERMS);
  return [...new Set(terms)];
}

/**
 * Tokens as FTS5's `unicode61 remove_diacritics 2` tokenizer makes them, near enough for ranking:
 * runs of letters, digits and private-use characters, case-folded, diacritics removed. (Which
 * memories match is decided by FTS5 itself; this only orders them.)
 */
function tokens(text: string): string[] {
  return (
    text
      .normalize("NFKD")
      .replace(/\p{Mn}/gu, "")
      .toLowerCase()
      .match(/[\p{L}\p{N}\p{Co}]+/gu) ?? []
  );
}

/** How often the token sequence `phrase` occurs in `text`'s tokens. */
function occurrences(text: readonly string[], phrase: readonly string[]): number {
  if (phrase.length === 0) return 0;
  let n = 0;
  outer: for (let i = 0; i + phrase.length <= text.length; i++) {
    for (let j = 0; j < phrase.length; j++) if (text[i + j] !== phrase[j]) continue outer;
    n++;
  }
  return n;
}

/** Matching memories ranked per search (those holding the most terms, the newest first): at most this many. */
export const MAX_RANKED = 500;

export interface StoredMemory {
  id: string;
  createdAt: string;
}

export interface FoundMemory {
  id: string;
  content: string;
  snippet: string;
  tags: string[];
  createdAt: string;
}

interface Row {
  id: string;
  content: string;
  tags: string;
  created_at: string;
  snippet: string;
}

export class MemoryStore {
  readonly db: Database.Database;
  readonly #insert: Database.Statement<[string, string, string, string, string]>;
  /** The search statement per number of query terms (1 – MAX_QUERY_TERMS), prepared on first use. */
  readonly #searches = new Map<number, Database.Statement<(string | number)[], Row & { held: number }>>();
  readonly #delete: Database.Statement<[string, string]>;
  readonly #count: Database.Statement<[string], { n: number }>;

  /** Opens (creating the file and its folder if needed) and migrates the database at `file`. */
  constructor(readonly file: string) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    try {
      // Private to the server's user; SQLite gives the -wal and -shm files the same permissions.
      if (file !== ":memory:") {
        try {
          chmodSync(file, 0o600);
        } catch {
          // a database file owned by another user keeps its permissions
        }
      }
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("busy_timeout = 5000");
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma("foreign_keys = ON");
      migrate(this.db);
      this.#insert = this.db.prepare(
        "INSERT INTO memories (id, user_id, content, tags, created_at) VALUES (?, ?, ?, ?, ?)",
      );
      this.#delete = this.db.prepare("DELETE FROM memories WHERE id = ? AND user_id = ?");
      this.#count = this.db.prepare("SELECT count(*) AS n FROM memories WHERE user_id = ?");
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  store(userId: string, content: string, tags: readonly string[] = []): StoredMemory {
    const id = `m_${randomBytes(16).toString("base64url")}`;
    const createdAt = new Date().toISOString();
    this.#insert.run(id, userId, content, JSON.stringify(tags), createdAt);
    return { id, createdAt };
  }

  /**
   * The user's memories matching `query`, best first: those holding more of the query's terms, then
   * more occurrences of them, then the newest. Ranked from the user's own memories only — FTS5's
   * bm25 weighs terms by how many memories of *every* user hold them, which would let one user
   * probe another's words through the order of their own results. The newest MAX_RANKED matches
   * are ranked.
   */
  search(userId: string, query: string, limit = 10): FoundMemory[] {
    const terms = queryTerms(query);
    const fts = toFtsQuery(query);
    if (fts === undefined) return [];
    // How many of the terms each memory holds is counted by FTS5 itself, in SQL, before the LIMIT:
    // the newest MAX_RANKED among those holding the most terms are ranked, so an older memory that
    // holds every term is never cut for newer ones holding one.
    const phrases = terms.map(tokens);
    const rows = this.#searchFor(terms.length).all(
      ...terms.map((t) => `"${t.replaceAll('"', '""')}"`),
      fts,
      userId,
      MAX_RANKED,
    );
    const ranked = rows.map((row, recency) => {
      const words = tokens(`${row.content} ${(JSON.parse(row.tags) as string[]).join(" ")}`);
      let total = 0;
      for (const phrase of phrases) total += occurrences(words, phrase);
      return { row, total, recency };
    });
    ranked.sort((a, b) => b.row.held - a.row.held || b.total - a.total || a.recency - b.recency);
    return ranked.slice(0, limit).map(({ row }) => ({
      id: row.id,
      content: row.content,
      snippet: row.snippet,
      tags: JSON.parse(row.tags) as string[],
      createdAt: row.created_at,
    }));
  }

  #searchFor(terms: number) {
    let statement = this.#searches.get(terms);
    if (!statement) {
      const held = Array.from(
        { length: terms },
        () => "(m.seq IN (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?))",
      ).join(" + ");
      statement = this.db.prepare(
        `SELECT m.id, m.content, m.tags, m.created_at,
                snippet(memories_fts, 0, '**', '**', '…', 16) AS snippet,
                ${held} AS held
           FROM memories_fts
           JOIN memories AS m ON m.seq = memories_fts.rowid
          WHERE memories_fts MATCH ? AND m.user_id = ?
          ORDER BY held DESC, m.seq DESC
          LIMIT ?`,
      );
      this.#searches.set(terms, statement);
    }
    return statement;
  }

  /** Deletes the user's memory `id`; false when the user has none with that id (whoever else might). */
  delete(userId: string, id: string): boolean {
    return this.#delete.run(id, userId).changes > 0;
  }

  count(userId: string): number {
    return this.#count.get(userId)?.n ?? 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Applies the migrations this database has not seen yet; safe when several processes start at once. */
export function migrate(db: Database.Database, migrations: readonly string[] = MIGRATIONS): number {
  const version = () => db.pragma("user_version", { simple: true }) as number;
  if (version() > migrations.length)
    throw new Error(
      `the memory database is at schema version ${version()}, newer than this toolgate knows (${migrations.length})`,
    );
  for (;;) {
    const applied = db
      .transaction(() => {
        const current = version(); // read again under the write lock: another process may have migrated
        const next = migrations[current];
        if (next === undefined) return false;
        db.exec(next);
        db.pragma(`user_version = ${current + 1}`);
        return true;
      })
      .immediate();
    if (!applied) return version();
  }
}

let shared: { file: string; store: MemoryStore } | undefined;

/** The process's one store (opened on first use) for database `file`. */
export function memoryStore(file: string): MemoryStore {
  if (shared?.file !== file) {
    shared?.store.close();
    shared = { file, store: new MemoryStore(file) };
  }
  return shared.store;
}

/** Closes the shared store (tests, shutdown). */
export function closeMemoryStore(): void {
  shared?.store.close();
  shared = undefined;
}
