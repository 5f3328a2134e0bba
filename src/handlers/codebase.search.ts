import { searchCodebase } from "../shipped/codebase-search.js";
import { settings } from "../shipped/settings.js";
import { defineHandler } from "../toolgate.js";

/**
 * codebase.search — Search the codebase
 * Declared in tools.yaml#/tools/codebase.search. This file is yours: `npm run generate` created it and never touches it again.
 * `input` is already validated against the tool's input schema. ctx.auth is the caller when one signed in (undefined for anonymous callers).
 *
 * A mixed tool (noauth + oauth2): anyone may search CODEBASE_ROOT; a signed-in caller holding
 * search.read searches CODEBASE_ROOT_SIGNED_IN instead. See docs/tools.md.
 */
export default defineHandler("codebase.search", async (input, ctx) => {
  const config = settings();
  const signedIn = ctx.auth?.scopes.includes("search.read") === true;
  const result = await searchCodebase({
    root: signedIn ? config.codebaseRootSignedIn : config.codebaseRoot,
    query: input.query,
    regex: input.regex,
    caseSensitive: input.caseSensitive,
    path: input.path,
    limit: input.limit,
    maxFileBytes: config.codebaseMaxFileBytes,
    maxFiles: config.codebaseMaxFiles,
    timeoutMs: config.codebaseSearchTimeoutMs,
    signal: ctx.signal,
  });
  ctx.log.debug({ signedIn, matches: result.matches.length, files: result.filesSearched }, "codebase searched");
  return result;
});
