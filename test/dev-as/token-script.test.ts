import { execFile } from "node:child_process";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import express from "express";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningDevServer, startDevServer, temporaryDataDir } from "./dev-server.js";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npx tsx scripts/token.ts ARGS`, as `npm run token -- ARGS` runs it. */
function token(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile("npx", ["tsx", "scripts/token.ts", ...args], { cwd: PROJECT_ROOT }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe("npm run token", () => {
  let dataDir: Awaited<ReturnType<typeof temporaryDataDir>>;
  let server: RunningDevServer;

  beforeAll(async () => {
    dataDir = await temporaryDataDir();
    server = await startDevServer({ dataDir: dataDir.path });
  });

  const others: Server[] = [];

  afterAll(async () => {
    for (const other of others) other.close();
    await server?.close();
    await dataDir?.remove();
  });

  async function claimsOf(run: Run) {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const jwks = createRemoteJWKSet(new URL(server.devAs.jwksUri));
    const { payload } = await jwtVerify(run.stdout.trim(), jwks, {
      issuer: server.issuer,
      audience: server.resource,
      typ: "at+jwt",
      algorithms: ["RS256"],
    });
    return payload;
  }

  it("prints only an access token, one subject per client name, reusing each name's client", async () => {
    const common = ["--url", server.issuer, "--data-dir", dataDir.path];
    const alice = await claimsOf(await token([...common, "--client", "alice", "--scope", "docs.write"]));
    expect(alice).toMatchObject({ sub: "alice", scope: "docs.write" });

    const bob = await claimsOf(await token([...common, "--client", "bob", "--scope", "docs.write memory.read"]));
    expect(bob).toMatchObject({ sub: "bob", scope: "docs.write memory.read" });
    expect(bob.client_id).not.toBe(alice.client_id);

    const again = await claimsOf(await token([...common, "--client", "alice", "--scope", "search.read"]));
    expect(again).toMatchObject({ sub: "alice", client_id: alice.client_id, scope: "search.read" });
  });

  it("registers a new client when the server forgot the cached one (a restart)", async () => {
    const common = ["--url", server.issuer, "--data-dir", dataDir.path, "--scope", "docs.write"];
    const before = await claimsOf(await token([...common, "--client", "grace"]));
    await server.close();
    server = await startDevServer({ dataDir: dataDir.path, port: server.port });
    const run = await token([...common, "--client", "grace"]);
    expect(run.stderr).toContain("registering a client for grace");
    const after = await claimsOf(run);
    expect(after).toMatchObject({ sub: "grace" });
    expect(after.client_id).not.toBe(before.client_id);
  });

  it.each([
    [
      "the server is down",
      "down",
      /^npm run token: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); is the server running\?$/m,
    ],
    [
      "there is no protected resource metadata",
      "no-prm",
      /^npm run token: no protected resource metadata at .*\(HTTP 404\); toolgate publishes it when/m,
    ],
    [
      "the authorization server is not the development one",
      "real-as",
      /^npm run token: http:\/\/127\.0\.0\.1:\d+ is not toolgate's development authorization server/m,
    ],
  ])("fails with one line on stderr when %s", async (_, kind, message) => {
    const url = await otherServer(kind);
    const run = await token(["--url", url, "--scope", "docs.write", "--data-dir", dataDir.path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
  });

  it.each([
    [
      "a typo",
      "docs.wirte",
      /the server does not offer the scope "docs\.wirte" \(did you mean "docs\.write"\?\); it offers: /,
    ],
    ["a typo beside a known scope", "docs.write docs.wirte", /does not offer the scope "docs\.wirte" \(did you mean/],
    [
      "commas",
      "docs.write,memory.read",
      /does not offer the scope "docs\.write,memory\.read" \(separate scopes with spaces, not commas\)/,
    ],
  ])("refuses a --scope the server does not offer (%s) before asking for it, naming it", async (_, scope, message) => {
    const run = await token(["--url", server.issuer, "--data-dir", dataDir.path, "--client", "typo", "--scope", scope]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain("registering a client");
  });

  it.each([
    ["an empty --client", ["--client", ""], "npm run token: --client must be a name (each name is its own user)\n"],
    [
      "an empty --scope",
      ["--scope", " "],
      "npm run token: --scope must name at least one scope (leave it out to ask for every scope offered)\n",
    ],
    [
      "a --url without its scheme",
      ["--url", "127.0.0.1:3000"],
      'npm run token: --url must be the server\'s http(s) URL, e.g. http://127.0.0.1:3000, not "127.0.0.1:3000"\n',
    ],
    [
      // never repeated: undici's own refusal quoted the URL, password and all
      "a --url with a password in it",
      ["--url", "http://user:URL-PASSWORD@127.0.0.1:3000"],
      "npm run token: --url must not hold a user name or password: the server's sign-in needs none\n",
    ],
  ])("refuses %s in one line, before asking the server anything", async (_, args, message) => {
    const run = await token(["--url", server.issuer, "--data-dir", dataDir.path, ...args]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.replace(/^npm warn .*\n/gm, "")).toBe(message);
  });

  /** A server that is not a toolgate server with a development authorization server. */
  async function otherServer(kind: string): Promise<string> {
    const app = express();
    const origin = () => `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    if (kind === "real-as") {
      app.get("/.well-known/oauth-protected-resource", (_req, res) => {
        res.json({ resource: `${origin()}/mcp`, authorization_servers: [origin()] });
      });
      app.get("/.well-known/oauth-authorization-server", (_req, res) => {
        res.json({ issuer: origin(), authorization_endpoint: `${origin()}/authorize` });
      });
    }
    const http = await new Promise<Server>((resolve) => {
      const listening: Server = app.listen(0, "127.0.0.1", () => resolve(listening));
    });
    const url = origin();
    if (kind === "down") await new Promise((resolve) => http.close(resolve));
    else others.push(http);
    return url;
  }
});
