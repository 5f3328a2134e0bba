/**
 * A tool's code (handler and validators) is loaded on the tool's first call, once: start-up loads
 * metadata only. A handler module that throws while loading costs that tool only, with an internal
 * error naming the request id, and the failure is logged. Served from test/fixtures/projects/lazy.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { legacy, modern, rpc } from "../helpers/server.js";
import { type ServedFixture, servedFixtureProject } from "../helpers/temp-project.js";

const loads = globalThis as { __toolgateLazyLoads?: number };
type Logged = { msg?: string; err?: { message?: string } };
let fixture: ServedFixture<Logged>;
let root: string;
let mcpUrl: string;
let logged: Logged[];

beforeAll(async () => {
  fixture = await servedFixtureProject<Logged>("lazy");
  ({ root, mcpUrl, logged } = fixture);
  expect(fixture.diagnostics).toEqual([]);
});
afterAll(() => fixture?.close());

it("loads no handler at start; tools/list needs none", async () => {
  expect(loads.__toolgateLazyLoads).toBeUndefined();
  const { message, headers } = modern("tools/list");
  const res = await rpc(mcpUrl, message, headers);
  expect(res.body.result.tools.map((t: { name: string }) => t.name)).toEqual(["counted", "broken", "late", "appears"]);
  expect(loads.__toolgateLazyLoads).toBeUndefined();
});

it("loads a tool's code on its first call, once, and validates with it", async () => {
  for (const [i, build] of [modern, legacy, modern].entries()) {
    const { message, headers } = build("tools/call", { name: "counted", arguments: { text: `call ${i}` } });
    const res = await rpc(mcpUrl, message, headers);
    expect(res.body.result.content[0].text).toBe(`loaded 1 time(s): call ${i}`);
  }
  const { message, headers } = modern("tools/call", { name: "counted", arguments: { text: "far too long" } });
  const res = await rpc(mcpUrl, message, headers);
  expect(res.body.result).toMatchObject({ isError: true });
  expect(res.body.result.content[0].text).toContain("/text must NOT have more than 10 characters");
  expect(loads.__toolgateLazyLoads).toBe(1);
});

it("a handler module that throws while loading fails that tool only, and is logged", async () => {
  for (let i = 0; i < 2; i++) {
    const { message, headers } = modern("tools/call", { name: "broken", arguments: {} });
    const res = await rpc(mcpUrl, message, headers);
    expect(res.status).toBe(200);
    expect(res.body.result.isError).toBe(true);
    expect(res.body.result.content[0].text).toMatch(
      /^Tool broken failed with an internal error \(request id [0-9a-f-]{36}\)\.$/,
    );
  }
  expect(logged.filter((l) => l.msg === "tool code failed to load").map((l) => l.err?.message)).toEqual([
    "this handler module cannot load",
    "this handler module cannot load",
  ]);
  const { message, headers } = modern("tools/call", { name: "counted", arguments: { text: "still" } });
  expect((await rpc(mcpUrl, message, headers)).body.result.content[0].text).toBe("loaded 1 time(s): still");
});

it("a handler file missing at the first call is loaded at the next one (a failed load is not kept)", async () => {
  const file = join(root, "src", "handlers", "appears.ts");
  const saved = await readFile(file, "utf8");
  await rm(file);
  const call = () => {
    const { message, headers } = modern("tools/call", { name: "appears", arguments: {} });
    return rpc(mcpUrl, message, headers);
  };
  expect((await call()).body.result).toMatchObject({ isError: true });
  await writeFile(file, saved);
  expect((await call()).body.result.content[0].text).toBe("here now");
});

it("progress and log messages sent after the answer are dropped, on either transport, and the server goes on", async () => {
  const { message, headers } = modern("tools/call", {
    name: "late",
    arguments: {},
    _meta: { progressToken: "p" },
  });
  // A base64 Mcp-Name is left to the SDK's own entry (the other transport).
  const b64 = `=?base64?${Buffer.from("late").toString("base64")}?=`;
  for (const extra of [{}, { "mcp-name": b64 }] as Record<string, string>[]) {
    const res = await rpc(mcpUrl, message, { ...headers, ...extra });
    expect(res.body.result.content[0].text).toBe("answered");
  }
  await new Promise((resolve) => setTimeout(resolve, 150));
  expect((await fetch(`${fixture.server.url}/healthz`)).status).toBe(200);
});
