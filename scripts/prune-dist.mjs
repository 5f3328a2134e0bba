// `npm run build`'s last step: removes from dist/ what no source compiles to any more (a renamed or
// removed tool's handler and validator, a deleted module). tsc writes what it compiles and never
// deletes, so a deployed dist/ shipped dead code. Plain JavaScript: it runs where only the build's
// own tools are installed.
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The project folder: this checkout, or the folder given (for tests). */
const root = process.argv[2] ?? fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
/** What tsc emits for `x.ts`: x.js and its source map. */
const OUTPUT = /\.(js|js\.map)$/;

function prune(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // no dist/ yet
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true, force: true });
      continue;
    }
    if (!OUTPUT.test(entry.name)) continue;
    const source = join(root, relative(dist, path)).replace(OUTPUT, ".ts");
    try {
      statSync(source);
    } catch {
      rmSync(path, { force: true });
    }
  }
}

for (const top of ["src", "generated"]) prune(join(dist, top));
