/**
 * package.json's scripts run under cmd.exe on Windows (npm's default script shell there), so they
 * hold no syntax only a POSIX shell understands. Checked here, on Linux, where sh would accept it.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import { REPO } from "../helpers/temp-project.js";

const scripts = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).scripts as Record<string, string>;

/** What cmd.exe does not understand, each with the reason. A command starts a script or follows && or ||. */
const POSIX_ONLY: [RegExp, string][] = [
  [/(^|&&|\|\|)\s*exec\s/, "exec: not a cmd.exe command"],
  [/'/, "single quotes: cmd.exe passes them on as part of the word"],
  [/\$/, "$VAR and $(…): cmd.exe writes %VAR% and has no command substitution"],
  [/(^|&&|\|\|)\s*[A-Za-z_]\w*=/, "VAR=value command: cmd.exe has no per-command environment"],
  [/;/, "; between commands: cmd.exe runs them with &"],
  [/`/, "backticks: no command substitution in cmd.exe"],
  [/\/dev\/null/, "/dev/null: cmd.exe writes NUL"],
  [/(^|&&|\|\|)\s*(rm|cp|mv|cat|export|test|\[)\s/, "a POSIX command cmd.exe does not have"],
];

it.each(Object.entries(scripts))("script %s has no POSIX-only shell syntax", (_name, command) => {
  const found = POSIX_ONLY.filter(([pattern]) => pattern.test(command)).map(([, why]) => why);
  expect(found, command).toEqual([]);
});

it("start and dev are one command each, so a shell that execs a script's only command puts node right under npm", () => {
  // The build is prestart's: `npm start` runs it first, and `start` stays a single command.
  expect(scripts.prestart).toBe("npm run build --silent");
  for (const name of ["start", "dev"]) expect(scripts[name], name).toMatch(/^node [^&|;]+$/);
});

it("the generator answers a mistyped option in one line with its options, exit 2 (was a TypeError's stack)", () => {
  const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/generate.ts", "--chek"], {
    cwd: REPO,
    encoding: "utf8",
  });
  expect(run.status).toBe(2);
  expect(run.stdout).toBe("");
  // Node's own sentence (its wording may grow), then the options, on one line.
  expect(run.stderr).toMatch(
    /^generate: Unknown option '--chek'[^\n]* \(options: --check, --lint, --root DIR, --explain CODE, --help\)\n$/,
  );
});

it.each([
  ["generate", "scripts/generate.ts", /--root DIR/],
  ["dev", "scripts/dev.ts", /restarts it when tools\.yaml/],
  ["conformance", "scripts/conformance.ts", /conformance suite/],
])(
  "%s answers --help with its usage, and refuses what it does not take in one line (was: started anyway)",
  (name, file, usage) => {
    const run = (arg: string) =>
      spawnSync(process.execPath, ["--import", "tsx", file, arg], { cwd: REPO, encoding: "utf8", timeout: 30_000 });
    const help = run("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(usage);
    const wrong = run("--nope");
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(new RegExp(`^${name}: .*--nope.*\n$`));
  },
);

// tsc writes what it compiles and never deletes: a renamed tool's handler and validator stayed in
// dist/, and shipped with it.
it("the build ends by removing from dist/ what no source compiles to any more", async () => {
  const root = await mkdtemp(join(tmpdir(), "toolgate-prune-"));
  try {
    const files = {
      "src/handlers/kept.ts": "",
      "dist/src/handlers/kept.js": "",
      "dist/src/handlers/kept.js.map": "",
      "dist/src/handlers/gone.js": "",
      "dist/src/handlers/gone.js.map": "",
      "dist/generated/validators/Gone.js": "",
      "dist/src/notes.txt": "",
    };
    for (const [file, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, file)), { recursive: true });
      await writeFile(join(root, file), text);
    }
    expect(spawnSync(process.execPath, ["scripts/prune-dist.mjs", root], { cwd: REPO }).status).toBe(0);
    expect((await readdir(join(root, "dist"), { recursive: true })).sort()).toEqual(
      ["generated", "src", "src/handlers", "src/handlers/kept.js", "src/handlers/kept.js.map", "src/notes.txt"].sort(),
    );
    expect(scripts.postbuild).toBe("node scripts/prune-dist.mjs");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
