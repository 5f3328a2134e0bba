/**
 * projectPrefix(): what `npm run generate` puts before an example's file names in diagnostics and
 * drift lines. `/`-separated on every platform, as the file names after it are.
 */
import path from "node:path";
import { expect, it } from "vitest";
import { projectPrefix } from "../../scripts/generator/pipeline.js";

it.each([
  ["posix", "/work/toolgate", "/work/toolgate", ""],
  ["posix", "/work/toolgate", "/work/toolgate/examples/conformance", "examples/conformance/"],
  ["posix", "/work/toolgate", "/srv/project", "../../srv/project/"],
  ["win32", "C:\\toolgate", "C:\\toolgate", ""],
  ["win32", "C:\\toolgate", "C:\\toolgate\\examples\\conformance", "examples/conformance/"],
  ["win32", "C:\\toolgate", "C:\\work\\project", "../work/project/"],
  ["win32", "C:\\toolgate", "D:\\project", "D:/project/"],
] as const)("%s: %s, %s → %s", (platform, toolgateRoot, root, expected) => {
  expect(projectPrefix(toolgateRoot, root, path[platform])).toBe(expected);
});
