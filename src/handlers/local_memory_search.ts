import { memoryStore } from "../shipped/memory-store.js";
import { settings } from "../shipped/settings.js";
import { defineHandler } from "../toolgate.js";

/**
 * local_memory_search — Search memories
 * Declared in tools.yaml#/tools/local_memory_search. This file is yours: `npm run generate` created it and never touches it again.
 * `input` is already validated against the tool's input schema. ctx.auth is the signed-in caller (subject, userId, scopes, ...).
 *
 * Full-text search (SQLite FTS5, ranked without bm25) in the caller's own memories only. The query is plain words:
 * FTS5 syntax in it is matched as text, never interpreted. See docs/tools.md.
 */
export default defineHandler("local_memory_search", (input, ctx) => {
  const results = memoryStore(settings().memoryDb).search(ctx.auth.userId, input.query, input.limit);
  return { results };
});
