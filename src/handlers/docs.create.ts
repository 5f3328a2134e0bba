import { docsFolder } from "../shipped/docs-folder.js";
import { settings } from "../shipped/settings.js";
import { defineHandler } from "../toolgate.js";

/**
 * docs.create — Create a document
 * Declared in tools.yaml#/tools/docs.create. This file is yours: `npm run generate` created it and never touches it again.
 * `input` is already validated against the tool's input schema. ctx.auth is the signed-in caller (subject, userId, scopes, ...).
 *
 * Writes DOCS_DIR/<slug of the title>.md with front matter naming the author. The file name is made
 * from [a-z0-9-] only, so no title can reach outside the folder. The folder holds at most
 * DOCS_MAX_FILES files and DOCS_MAX_BYTES bytes. See docs/tools.md.
 */
export default defineHandler("docs.create", async (input, ctx) => {
  const { docsDir, docsMaxFiles, docsMaxBytes } = settings();
  const result = await docsFolder(docsDir).write(
    {
      title: input.title,
      body: input.body,
      tags: input.tags,
      overwrite: input.overwrite,
      author: { userId: ctx.auth.userId, subject: ctx.auth.subject },
    },
    { files: docsMaxFiles, bytes: docsMaxBytes },
  );
  ctx.log.info({ path: result.path, created: result.created, bytes: result.bytes }, "document written");
  return result;
});
