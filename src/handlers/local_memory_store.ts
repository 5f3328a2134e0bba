import { memoryStore } from "../shipped/memory-store.js";
import { settings } from "../shipped/settings.js";
import { defineHandler } from "../toolgate.js";

/**
 * local_memory_store — Remember something
 * Declared in tools.yaml#/tools/local_memory_store. This file is yours: `npm run generate` created it and never touches it again.
 * `input` is already validated against the tool's input schema. ctx.auth is the signed-in caller (subject, userId, scopes, ...).
 *
 * Memories belong to ctx.auth.userId (a stable hash of issuer and subject) in the SQLite database
 * MEMORY_DB, at most MEMORY_MAX_PER_USER memories and MEMORY_MAX_BYTES_PER_USER bytes per user. See docs/tools.md.
 */
export default defineHandler("local_memory_store", (input, ctx) => {
  const { memoryDb, memoryMaxPerUser, memoryMaxBytesPerUser } = settings();
  return memoryStore(memoryDb).store(ctx.auth.userId, input.content, input.tags, {
    memories: memoryMaxPerUser,
    bytes: memoryMaxBytesPerUser,
  });
});
