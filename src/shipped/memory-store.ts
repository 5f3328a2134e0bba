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
import { ToolError } from "../toolgate.js";

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
  // What each user holds (memories and bytes of content and tags), kept by triggers, for the quotas.
  `CREATE TABLE memory_usage (
     user_id  TEXT PRIMARY KEY,
     memories INTEGER NOT NULL,
     bytes    INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;
   INSERT INTO memory_usage (user_id, memories, bytes)
     SELECT user_id, count(*), sum(octet_length(content) + octet_length(tags)) FROM memories GROUP BY user_id;
   CREATE TRIGGER memory_usage_ai AFTER INSERT ON memories BEGIN
     INSERT INTO memory_usage (user_id, memories, bytes)
       VALUES (new.user_id, 1, octet_length(new.content) + octet_length(new.tags))
       ON CONFLICT (user_id) DO UPDATE SET memories = memories + 1, bytes = bytes + excluded.bytes;
   END;
   CREATE TRIGGER memory_usage_ad AFTER DELETE ON memories BEGIN
     UPDATE memory_usage SET memories = memories - 1, bytes = bytes - (octet_length(old.content) + octet_length(old.tags))
      WHERE user_id = old.user_id;
   END;
   CREATE TRIGGER memory_usage_au AFTER UPDATE ON memories BEGIN
     UPDATE memory_usage SET memories = memories - 1, bytes = bytes - (octet_length(old.content) + octet_length(old.tags))
      WHERE user_id = old.user_id;
     INSERT INTO memory_usage (user_id, memories, bytes)
       VALUES (new.user_id, 1, octet_length(new.content) + octet_length(new.tags))
       ON CONFLICT (user_id) DO UPDATE SET memories = memories + 1, bytes = bytes + excluded.bytes;
   END;`,
  // The owner in the full-text index, one token per user ('u' and the hex of the user id's UTF-8):
  // a search matches `owner : "u…" AND (…)`, so FTS5 walks only the caller's rows (other users'
  // memories no longer slow it down).
  `DROP TRIGGER memories_ai;
   DROP TRIGGER memories_ad;
   DROP TRIGGER memories_au;
   DROP TABLE memories_fts;
   ALTER TABLE memories ADD COLUMN owner TEXT GENERATED ALWAYS AS ('u' || lower(hex(user_id))) VIRTUAL;
   CREATE VIRTUAL TABLE memories_fts USING fts5(
     content, tags, owner,
     content = 'memories', content_rowid = 'seq',
     tokenize = 'unicode61 remove_diacritics 2'
   );
   INSERT INTO memories_fts (memories_fts) VALUES ('rebuild');
   CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
     INSERT INTO memories_fts (rowid, content, tags, owner) VALUES (new.seq, new.content, new.tags, new.owner);
   END;
   CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
     INSERT INTO memories_fts (memories_fts, rowid, content, tags, owner)
       VALUES ('delete', old.seq, old.content, old.tags, old.owner);
   END;
   CREATE TRIGGER memories_au AFTER UPDATE ON memories BEGIN
     INSERT INTO memories_fts (memories_fts, rowid, content, tags, owner)
       VALUES ('delete', old.seq, old.content, old.tags, old.owner);
     INSERT INTO memories_fts (rowid, content, tags, owner) VALUES (new.seq, new.content, new.tags, new.owner);
   END;`,
];

/** The most one user may keep: refused beyond (MEMORY_MAX_PER_USER, MEMORY_MAX_BYTES_PER_USER). */
export interface MemoryQuota {
  memories: number;
  bytes: number;
}

/** Terms of a search beyond this many are ignored. */
export const MAX_QUERY_TERMS = 32;

/**
 * Tokens of a search's phrases together (a term like `a.b.c` is a phrase of three tokens): a phrase
 * past this many is cut to the tokens left, at least its first. Phrases are checked in JavaScript,
 * one linear pass over a memory's tokens each, so this bounds their number (at most 8);
 * single-word terms are counted in one pass together and are not counted here.
 */
export const MAX_PHRASE_TOKENS = 16;

/**
 * Turns what a user typed into an FTS5 query that cannot be read as FTS5 syntax: each
 * whitespace-separated term becomes a quoted string (inner `"` doubled), terms with no letter or
 * digit are dropped (they would match nothing), and terms are joined with OR. Returns undefined
 * when nothing searchable is left. The terms as FTS5 would match them (tests compare with FTS5's
 * snippet()); `search` itself matches each term apart, a phrase as the AND of its tokens.
 */
export function toFtsQuery(text: string): string | undefined {
  const terms = queryTerms(text);
  if (terms.length === 0) return undefined;
  return terms.map(quoted).join(" OR ");
}

const quoted = (term: string) => `"${term.replaceAll('"', '""')}"`;

/**
 * The distinct searchable terms of a query: at most MAX_QUERY_TERMS, the phrases among them cut to
 * MAX_PHRASE_TOKENS tokens in all. Control characters (NUL…) separate terms: FTS5 refuses them
 * inside a string.
 */
function queryTerms(text: string): string[] {
  const terms = text
    .normalize("NFKC")
    .split(/[\s\p{Cc}]+/u)
    .filter((t) => /[\p{L}\p{N}]/u.test(t))
    .slice(0, MAX_QUERY_TERMS);
  // Keyed by the tokens: `a.b` and `a-b` are one phrase, searched once.
  const kept = new Map<string, string>();
  let budget = MAX_PHRASE_TOKENS;
  for (const term of terms) {
    let words = tokens(term);
    let searched = term;
    if (words.length > 1 && words.length > budget) {
      words = words.slice(0, Math.max(budget, 1)); // the same phrase, shorter
      searched = words.join(" ");
    }
    const key = words.join(" ");
    if (kept.has(key)) continue;
    kept.set(key, searched);
    if (words.length > 1) budget -= words.length;
  }
  return [...kept.values()];
}

/** Runs of token characters, as FTS5's `unicode61` tokenizer sees them (combining marks kept with their letter). */
const TOKEN_RUN = /[\p{L}\p{N}\p{Co}\p{Mn}]+/gu;

/**
 * Tokens as FTS5's `unicode61 remove_diacritics 2` tokenizer makes them, for snippets, ranking and
 * phrases: runs of letters, digits and private-use characters (combining marks kept with their
 * letter), case-folded, diacritics removed. Decomposed canonically (NFD), as unicode61 removes
 * diacritics, never by compatibility (NFKD): FTS5 keeps `Ａｌｐｈａ`, `ﬁ`, `½`, `x²`, `Ǆ` and `ŉ`
 * as they are (case-folded), and so does this — NFKD made `ﬁle` the token `file`, highlighted where
 * FTS5 matched nothing. Equal to FTS5's tokens on ASCII and on canonical accents, CJK, emoji and
 * the compatibility characters above; approximated: JavaScript's Unicode tables and case folding
 * (toLowerCase) against unicode61's own, which may differ on characters their Unicode versions
 * classify differently, and on special case mappings (`İ`, final sigma). Which memories hold a
 * single word is FTS5's answer; a phrase is checked on these tokens.
 */
function tokens(text: string): string[] {
  if (!/[^\p{ASCII}]/u.test(text)) return text.toLowerCase().match(/[a-z0-9]+/g) ?? []; // ASCII: the same, faster
  return fold(text).match(/[\p{L}\p{N}\p{Co}]+/gu) ?? [];
}

function fold(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{Mn}/gu, "")
    .toLowerCase();
}

/** A token of a memory's content with where it is in the content (UTF-16 offsets), for snippets. */
interface Span {
  token: string;
  start: number;
  end: number;
}

/** The tokens of `text` with their offsets (a run that folds into several tokens gives each the run's offsets). */
function spans(text: string): Span[] {
  const out: Span[] = [];
  for (const m of text.matchAll(TOKEN_RUN)) {
    const start = m.index;
    const end = start + m[0].length;
    for (const token of tokens(m[0])) out.push({ token, start, end });
  }
  return out;
}

/**
 * Counts the occurrences (overlapping ones included) of one token sequence in token lists, in time
 * linear in the list's length whatever the phrase (Knuth–Morris–Pratt; the naive scan was
 * O(tokens × phrase length), and a 250-token phrase of "a" in a memory of 5,000 "a"s cost that).
 */
class PhraseMatcher {
  readonly #fail: Int32Array;
  constructor(readonly phrase: readonly string[]) {
    this.#fail = new Int32Array(phrase.length);
    for (let i = 1, k = 0; i < phrase.length; i++) {
      while (k > 0 && phrase[i] !== phrase[k]) k = this.#fail[k - 1]!;
      if (phrase[i] === phrase[k]) k++;
      this.#fail[i] = k;
    }
  }

  /** Calls `found` with the start of each occurrence in `text`, in order; stops early when it returns false. */
  each(text: readonly string[], found: (start: number) => boolean | undefined): void {
    const phrase = this.phrase;
    const m = phrase.length;
    if (m === 0) return;
    for (let i = 0, k = 0; i < text.length; i++) {
      const token = text[i];
      while (k > 0 && token !== phrase[k]) k = this.#fail[k - 1]!;
      if (token === phrase[k]) k++;
      if (k === m) {
        if (found(i - m + 1) === false) return;
        k = this.#fail[m - 1]!;
      }
    }
  }

  /** Occurrences in `text`, counted up to `max`. */
  count(text: readonly string[], max: number): number {
    let n = 0;
    this.each(text, () => ++n < max);
    return n;
  }
}

/**
 * Matching memories ranked per search (those holding the most terms, the newest first): at most
 * this many. Ranking tokenizes each (up to MAX_SCANNED_CHARS characters): ~0.5 ms for 10,000
 * characters of accented text, so this bounds a search's JavaScript work to ~50 ms (500 took ~0.25 s).
 */
export const MAX_RANKED = 100;

/**
 * Candidates SQL hands over (ids and term masks only, cheap): past MAX_RANKED, JavaScript goes on
 * through them only while fewer than `limit` have held the terms — a phrase whose words more than
 * MAX_RANKED newer memories hold, in another order, is still found. Bounds that case's work to
 * ~0.25 s of accented text.
 */
export const MAX_CANDIDATES = 500;

/**
 * Occurrences are counted, and snippets made, in the first this many characters of a memory's
 * content (the schema's `maxLength` of `content`, so all of any memory stored through the tool):
 * the work a search does per memory stays bounded even for longer rows written by other means.
 */
export const MAX_SCANNED_CHARS = 10_000;

/** Occurrences of a term in a memory are counted up to this many for ranking (more say nothing more). */
export const MAX_COUNTED = 100;

/** A snippet is chosen among the first this many hits of the query's words in a memory. */
export const MAX_SNIPPET_HITS = 1_000;

/** Tokens in a snippet. */
export const SNIPPET_TOKENS = 16;

interface Hit {
  /** The token position where the phrase starts. */
  at: number;
  /** Which of the query's phrases. */
  phrase: number;
  /** The phrase's length in tokens. */
  size: number;
}

/**
 * The snippet FTS5's `snippet(memories_fts, 0, '**', '**', '…', 16)` makes of `content`, built in
 * JavaScript for the few memories returned (snippet() cost ~0.1 s per memory holding thousands of
 * hits, and was computed for every memory ranked). The same choice of window — the 16 tokens
 * holding the most distinct phrases, then the most hits, centred on them, or starting at the
 * sentence that holds the first hit when that scores better — found in one sliding pass over the
 * first MAX_SNIPPET_HITS hits instead of FTS5's pass per hit, and the same highlighting
 * (overlapping hits are one bold run).
 */
export function makeSnippet(content: string, matchers: readonly PhraseMatcher[], nToken = SNIPPET_TOKENS): string {
  const text = content.length > MAX_SCANNED_CHARS ? content.slice(0, MAX_SCANNED_CHARS) : content;
  const cut = text.length < content.length;
  const doc = spans(text);
  const words = doc.map((s) => s.token);
  const size = doc.length;

  const hits: Hit[] = [];
  matchers.forEach((m, phrase) => {
    let n = 0;
    m.each(words, (at) => {
      hits.push({ at, phrase, size: m.phrase.length });
      return ++n < MAX_SNIPPET_HITS;
    });
  });
  // FTS5's instance order: by position, then by the phrase's place in the query.
  hits.sort((x, y) => x.at - y.at || x.phrase - y.phrase);
  hits.length = Math.min(hits.length, MAX_SNIPPET_HITS);

  // Sentence starts, as FTS5 finds them: the first token, and a token after white space that follows "." or ":".
  const firsts: number[] = [];
  doc.forEach((span, i) => {
    if (i === 0) {
      firsts.push(0);
      return;
    }
    let j = span.start - 1;
    while (j >= 0 && " \t\n\r".includes(text[j]!)) j--;
    if (j !== span.start - 1 && j >= 0 && (text[j] === "." || text[j] === ":")) firsts.push(i);
  });

  /** A window of `nToken` tokens slid forward over the hits: its score as FTS5's fts5SnippetScore counts it. */
  const window = () => {
    const held = new Int32Array(matchers.length);
    let lo = 0;
    let hi = 0;
    let distinct = 0;
    return (start: number) => {
      for (; hi < hits.length && hits[hi]!.at < start + nToken; hi++) {
        const phrase = hits[hi]!.phrase;
        if (held[phrase] === 0) distinct++;
        held[phrase] = held[phrase]! + 1;
      }
      for (; lo < hi && hits[lo]!.at < start; lo++) {
        const phrase = hits[lo]!.phrase;
        held[phrase] = held[phrase]! - 1;
        if (held[phrase] === 0) distinct--;
      }
      const score = distinct * 1000 + (hi - lo - distinct);
      if (lo === hi) return { score, adjusted: 0 };
      const first = hits[lo]!.at;
      const last = hits[hi - 1]!.at + hits[hi - 1]!.size;
      let adjusted = first - Math.trunc((nToken - (last - first)) / 2);
      if (adjusted + nToken > size) adjusted = size - nToken;
      return { score, adjusted: Math.max(0, adjusted) };
    };
  };
  const atHit = window();
  const atSentence = window();
  let best = 0;
  let bestStart = 0;
  let sentence = 0;
  for (const hit of hits) {
    const { score, adjusted } = atHit(hit.at);
    if (score > best) {
      best = score;
      bestStart = adjusted;
    }
    if (firsts.length > 0 && size > nToken) {
      while (sentence < firsts.length - 1 && firsts[sentence + 1]! <= hit.at) sentence++;
      const first = firsts[sentence]!;
      if (first < hit.at) {
        const bonus = atSentence(first).score + (first === 0 ? 120 : 100);
        if (bonus > best) {
          best = bonus;
          bestStart = first;
        }
      }
    }
  }

  // Highlighting, as FTS5's fts5HighlightCb does it over tokens bestStart … bestStart + nToken - 1.
  let next = 0;
  let runStart = -1;
  let runEnd = -1;
  const nextRun = () => {
    runStart = -1;
    runEnd = -1;
    for (; next < hits.length; next++) {
      const end = hits[next]!.at - 1 + hits[next]!.size;
      if (runStart < 0) {
        runStart = hits[next]!.at;
        runEnd = end;
      } else if (hits[next]!.at <= runEnd) runEnd = Math.max(runEnd, end);
      else break;
    }
  };
  nextRun();
  const rangeEnd = bestStart + nToken - 1;
  let out = bestStart > 0 ? "…" : "";
  while (runStart >= 0 && runStart < bestStart) nextRun();
  let offset = 0;
  let open = false;
  for (let at = bestStart; at <= rangeEnd && at < size; at++) {
    const { start, end } = doc[at]!;
    if (bestStart > 0 && at === bestStart) offset = start;
    if (open && (at <= runStart || runStart < 0) && start > offset) {
      out += "**";
      open = false;
    }
    if (at === runStart && !open) {
      out += `${text.slice(offset, start)}**`;
      offset = start;
      open = true;
    }
    if (at === runEnd) {
      if (!open) out += "**";
      open = true;
      out += text.slice(offset, end);
      offset = end;
      nextRun();
    }
    if (at === rangeEnd) {
      if (open) {
        if (runStart >= 0 && at >= runStart) {
          out += text.slice(offset, end);
          offset = end;
        }
        out += "**";
        open = false;
      }
      out += text.slice(offset, end);
      offset = end;
    }
  }
  if (open) out += "**";
  return rangeEnd >= size - 1 && !cut ? out + text.slice(offset) : `${out}…`;
}

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
}

export class MemoryStore {
  readonly db: Database.Database;
  readonly #insert: Database.Statement<[string, string, string, string, string]>;
  /** The search statement per number of query terms (1 – MAX_QUERY_TERMS), prepared on first use. */
  readonly #searches = new Map<number, Database.Statement<(string | number)[], { seq: number; mask: number }>>();
  readonly #row: Database.Statement<[number], Row>;
  readonly #delete: Database.Statement<[string, string]>;
  readonly #count: Database.Statement<[string], { n: number }>;
  readonly #usage: Database.Statement<[string], { memories: number; bytes: number }>;
  /**
   * The token of a user id in the index's `owner` column, computed by SQLite as migration 3 and the
   * column do: the same bytes for any id (a lone surrogate is encoded by the binding, not by Buffer).
   */
  readonly #ownerToken: Database.Statement<[string], string>;

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
      // The number of terms a search's mask holds (its bits set), for SQL's ORDER BY.
      this.db.function("terms", { deterministic: true }, (mask) => held(Number(mask), -1));
      migrate(this.db);
      this.#insert = this.db.prepare(
        "INSERT INTO memories (id, user_id, content, tags, created_at) VALUES (?, ?, ?, ?, ?)",
      );
      this.#delete = this.db.prepare("DELETE FROM memories WHERE id = ? AND user_id = ?");
      this.#count = this.db.prepare("SELECT count(*) AS n FROM memories WHERE user_id = ?");
      this.#usage = this.db.prepare("SELECT memories, bytes FROM memory_usage WHERE user_id = ?");
      this.#row = this.db.prepare("SELECT id, content, tags, created_at FROM memories WHERE seq = ?");
      this.#ownerToken = this.db.prepare<[string], string>("SELECT 'u' || lower(hex(?))").pluck();
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /**
   * Stores a memory of `userId`; with a `quota`, refused (a ToolError naming the setting) when the
   * user already holds `quota.memories` memories or it would take them past `quota.bytes` bytes
   * (UTF-8 content and tags). Checked and inserted in one IMMEDIATE transaction, so processes
   * sharing the database cannot overshoot together.
   */
  store(userId: string, content: string, tags: readonly string[] = [], quota?: MemoryQuota): StoredMemory {
    const id = `m_${randomBytes(16).toString("base64url")}`;
    const createdAt = new Date().toISOString();
    const tagsJson = JSON.stringify(tags);
    this.db
      .transaction(() => {
        if (quota) {
          const held = this.#usage.get(userId) ?? { memories: 0, bytes: 0 };
          if (held.memories >= quota.memories)
            throw new ToolError(
              `You have ${held.memories} memories, the most one user may keep (MEMORY_MAX_PER_USER=${quota.memories}). Delete some with local_memory_delete, or ask the operator to raise MEMORY_MAX_PER_USER.`,
            );
          const bytes = Buffer.byteLength(content) + Buffer.byteLength(tagsJson);
          if (held.bytes + bytes > quota.bytes)
            throw new ToolError(
              `This memory (${bytes} bytes) would take yours past ${quota.bytes} bytes, the most one user may keep (MEMORY_MAX_BYTES_PER_USER; you hold ${held.bytes}). Delete some with local_memory_delete, or ask the operator to raise MEMORY_MAX_BYTES_PER_USER.`,
            );
        }
        this.#insert.run(id, userId, content, tagsJson, createdAt);
      })
      .immediate();
    return { id, createdAt };
  }

  /**
   * The user's memories matching `query`, best first: those holding more of the query's terms, then
   * more occurrences of them, then the newest. Ranked from the user's own memories only — FTS5's
   * bm25 weighs terms by how many memories of *every* user hold them, which would let one user
   * probe another's words through the order of their own results.
   *
   * The work is bounded whatever was stored, by anyone:
   * - FTS5 walks only the caller's rows (every match is `owner : "u…" AND (…)`, the owner column
   *   holding one token per user), and never a phrase's positions: a phrase is matched in SQL as
   *   the AND of its tokens, which needs the rows holding them only. (FTS5 checking `a.a.a` walked
   *   the positions of every `a` in every memory holding one, all users together: ~1 s for 5,000
   *   memories of 5,000 `a`s.)
   * - SQL counts the terms each memory holds that way (a phrase counted when its tokens are all
   *   there) and picks the MAX_RANKED newest among those holding the most, carrying no content.
   * - JavaScript checks the phrases in those only, each in one linear pass over at most
   *   MAX_SCANNED_CHARS characters of content (and the tags, apart), counts the occurrences, drops
   *   the memories holding none of the terms and ranks the rest; snippets are made only for the
   *   `limit` memories returned.
   *
   * Which memories hold a single-word term is FTS5's answer; a phrase is held when FTS5 finds its
   * tokens and JavaScript the phrase (its tokens are FTS5's, near enough: see `tokens`). Past
   * MAX_RANKED candidates, JavaScript goes on (up to MAX_CANDIDATES) only while fewer than `limit`
   * held the terms; so where more than MAX_RANKED memories hold the tokens of the same number of
   * terms, a memory holding the phrases themselves may rank below newer ones it would have passed.
   */
  search(userId: string, query: string, limit = 10): FoundMemory[] {
    const terms = queryTerms(query);
    if (terms.length === 0) return [];
    const phrases = terms.map(tokens);
    const matchers = phrases.map((p) => new PhraseMatcher(p));
    const owner = `owner : ${quoted(this.#ownerToken.get(userId) as string)} AND `;
    // Each term as the user wrote its words, tokenised by FTS5 itself (its tokens are what the index
    // holds: Hangul syllables, й, が keep what JavaScript's folding takes apart), in content and tags
    // only (never the owner column).
    const matches = terms.map(
      (term) => `${owner}{content tags} : (${[...new Set(term.match(TOKEN_RUN) ?? [term])].map(quoted).join(" AND ")})`,
    );
    const picked = this.#searchFor(terms.length).all(...matches, userId, MAX_CANDIDATES);
    // The single-word terms, counted in one pass over a memory's tokens.
    const singles = new Map<string, number>();
    phrases.forEach((p, i) => {
      if (p.length === 1) singles.set(p[0]!, i);
    });
    type Ranked = { row: Row; tags: string[]; holds: number; total: number; recency: number };
    const ranked: Ranked[] = [];
    for (const [recency, { seq, mask }] of picked.entries()) {
      if (recency >= MAX_RANKED && ranked.length >= limit) break;
      const row = this.#row.get(seq);
      if (!row) continue;
      const tags = JSON.parse(row.tags) as string[];
      const counts = new Array<number>(terms.length).fill(0);
      for (const words of [tokens(row.content.slice(0, MAX_SCANNED_CHARS)), tokens(tags.join(" "))]) {
        for (const word of words) {
          const i = singles.get(word);
          if (i !== undefined && counts[i]! < MAX_COUNTED) counts[i]!++;
        }
        matchers.forEach((m, i) => {
          if (m.phrase.length > 1 && held(mask, i) && counts[i]! < MAX_COUNTED)
            counts[i]! += m.count(words, MAX_COUNTED - counts[i]!);
        });
      }
      let holds = 0;
      let total = 0;
      counts.forEach((n, i) => {
        if (held(mask, i) && (phrases[i]!.length === 1 || n > 0)) holds++;
        total += n;
      });
      if (holds > 0) ranked.push({ row, tags, holds, total, recency });
    }
    ranked.sort((a, b) => b.holds - a.holds || b.total - a.total || a.recency - b.recency);
    return ranked.slice(0, limit).map(({ row, tags }) => ({
      id: row.id,
      content: row.content,
      snippet: makeSnippet(row.content, matchers),
      tags,
      createdAt: row.created_at,
    }));
  }

  #searchFor(terms: number) {
    let statement = this.#searches.get(terms);
    if (!statement) {
      const inTerm = "(m.seq IN (SELECT rowid FROM memories_fts WHERE memories_fts MATCH ?))";
      const held = Array.from({ length: terms }, (_, i) => `${inTerm} * ${2 ** i}`).join(" + ");
      // Each term is matched once (its rowids gathered by the IN subquery, the caller's only), and the
      // user's own memories (memories_by_user covers user_id and seq) are checked against those sets:
      // `mask` has bit i set when the memory holds the tokens of term i. MATERIALIZED: flattened into
      // the outer query, the mask (its 32 lookups) was computed again for the WHERE and the ORDER BY.
      statement = this.db.prepare(
        `WITH held AS MATERIALIZED (SELECT m.seq, ${held} AS mask FROM memories AS m WHERE m.user_id = ?)
         SELECT seq, mask FROM held
          WHERE mask > 0
          ORDER BY terms(mask) DESC, seq DESC
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

  /** The memories and bytes (UTF-8 content and tags) `userId` holds, as the quota counts them. */
  usage(userId: string): MemoryQuota {
    return this.#usage.get(userId) ?? { memories: 0, bytes: 0 };
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

/** With `i` ≥ 0, whether bit `i` of a search's mask is set; with -1, how many are. */
function held(mask: number, i: number): number {
  if (i >= 0) return Math.floor(mask / 2 ** i) % 2;
  let n = 0;
  for (let m = mask; m > 0; m = Math.floor(m / 2)) n += m % 2;
  return n;
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
