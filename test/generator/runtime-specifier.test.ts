/**
 * runtimeSpecifier(): how generated code imports the toolgate runtime. A relative path with `/` on
 * every platform; a file: URL where Windows has no relative path (another drive), since ESM refuses
 * `D:/…` (it reads `d:` as a URL scheme).
 */
import path from "node:path";
import { expect, it } from "vitest";
import { runtimeSpecifier } from "../../scripts/generator/pipeline.js";

it.each([
  // the toolgate project itself, and an example inside the checkout
  ["/work/toolgate/generated", "/work/toolgate", ".."],
  ["/work/toolgate/examples/conformance/generated", "/work/toolgate", "../../.."],
  ["/srv/project/generated", "/work/toolgate", "../../../work/toolgate"],
])("POSIX: %s → %s is %s", (outDir, root, expected) => {
  expect(runtimeSpecifier(outDir, root, path.posix)).toBe(expected);
});

it.each([
  ["C:\\toolgate\\generated", "C:\\toolgate", ".."],
  ["C:\\toolgate\\examples\\conformance\\generated", "C:\\toolgate", "../../.."],
  ["C:\\work\\project\\generated", "C:\\tools\\toolgate", "../../../tools/toolgate"],
  // another drive, and a share: no relative path
  ["C:\\work\\project\\generated", "D:\\toolgate", "file:///D:/toolgate"],
  ["C:\\work\\project\\generated", "D:\\my tools\\toolgate", "file:///D:/my%20tools/toolgate"],
  ["C:\\work\\project\\generated", "\\\\server\\share\\toolgate", "file://server/share/toolgate"],
])("Windows: %s → %s is %s", (outDir, root, expected) => {
  const specifier = runtimeSpecifier(outDir, root, path.win32);
  expect(specifier).toBe(expected);
  // what the generated imports append: a specifier ESM takes, never a drive-letter path
  expect(`${specifier}/src/tools/project.js`).not.toMatch(/^[A-Za-z]:|\\/);
});
