/**
 * Every file is checked out with LF, also on Windows with core.autocrlf=true (.gitattributes): the
 * drift check compares generated/ with what the generator renders, and biome wants LF. Asked of
 * git, so a later line of .gitattributes that overrode it for some files would show too.
 */
import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";
import { REPO } from "../helpers/temp-project.js";

const git = (args: string[], input?: string) => execFileSync("git", args, { cwd: REPO, encoding: "utf8", input });

it("git checks out every tracked file with LF line ends, whatever core.autocrlf says", () => {
  const files = git(["ls-files"]).trim().split("\n");
  expect(files).toContain("generated/registry.ts");
  // One `<path>: eol: <value>` line per file: "lf", or "unspecified" without .gitattributes.
  const notLf = git(["check-attr", "--stdin", "eol"], files.join("\n"))
    .trim()
    .split("\n")
    .filter((line) => !line.endsWith(": eol: lf"));
  expect(notLf).toEqual([]);
});
