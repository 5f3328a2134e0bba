import { memoryStore } from "../shipped/memory-store.js";
import { settings } from "../shipped/settings.js";
import { defineHandler } from "../toolgate.js";

/**
 * local_memory_delete — Forget a memory
 * Declared in tools.yaml#/tools/local_memory_delete. This file is yours: `npm run generate` created it and never touches it again.
 * `input` is already validated against the tool's input schema. ctx.auth is the signed-in caller (subject, userId, scopes, ...).
 *
 * Deletes only the caller's own memory: another user's id answers `deleted: false`, exactly like an
 * id that does not exist. See docs/tools.md.
 */
export default defineHandler("local_memory_delete", (input, ctx) => {
  return { deleted: memoryStore(settings().memoryDb).delete(ctx.auth.userId, input.id) };
});
