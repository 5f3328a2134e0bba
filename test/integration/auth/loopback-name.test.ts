/**
 * A client that reaches a loopback server through another loopback name (`localhost` for a resource
 * on 127.0.0.1) cannot sign in: clients require the metadata's `resource` to match the URL they were
 * given, and fail on their side. The server says so once, when it first sends such a client a 401.
 */
import { request } from "node:http";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { project } from "../../../generated/project.js";
import { type RunningServer, startServer } from "../../../src/server.js";
import { modern } from "../../helpers/server.js";

const lines: { level: number; msg: string; host?: string }[] = [];
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    project,
    env: { AUTH_MODE: "oauth2", DATA_DIR: "test/.tmp/loopback-name-data" },
    server: { port: 0, host: "127.0.0.1" },
    logger: pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
  });
});
afterAll(() => server?.close());

/** A tools/list POST with the given Host header: its status. */
function post(host: string): Promise<number> {
  const { message, headers } = modern("tools/list");
  const body = JSON.stringify(message);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: server.port,
        path: "/mcp",
        method: "POST",
        headers: {
          ...headers,
          host,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const notices = () => lines.filter((l) => l.msg.includes("its sign-in will fail"));

it("warns once when a client reached the server as localhost while the resource names 127.0.0.1", async () => {
  expect(await post(`127.0.0.1:${server.port}`)).toBe(401);
  expect(notices()).toEqual([]);
  expect(await post(`localhost:${server.port}`)).toBe(401);
  expect(await post(`localhost:${server.port}`)).toBe(401);
  expect(notices()).toHaveLength(1);
  expect(notices()[0]).toMatchObject({ level: 40, host: `localhost:${server.port}` });
  expect(notices()[0]?.msg).toContain(`connect to http://127.0.0.1:${server.port}/mcp`);
});
