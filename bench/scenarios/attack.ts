/**
 * Part 2: attack cost. toolgate in mode oauth2 trusting an OIDC issuer the harness controls
 * (test/helpers/test-issuer.ts, a JWKS server in this process), flooded with tokens it must refuse:
 *   (i)  a valid `kid` and a bad signature: every request pays an RS256 verification;
 *   (ii) a random `kid` per request: must never turn into one JWKS fetch per request.
 * Reported: rejections per second (every answer must be a 401) and the JWKS fetches during each
 * flood, counted at the issuer. The JWKS cooldown is set to 1 s here (default 30 s) so that the
 * bound on refetches (one per cooldown) is visible within a short flood.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { b64url, startTestIssuer } from "../../test/helpers/test-issuer.js";
import { runLoad } from "../lib/load.js";
import { writeOidcAuthFile } from "../lib/modes.js";
import { TOOLGATE_PROJECT, TOOLGATE_TOOL } from "../lib/project.js";
import { MODERN, send, toolCall, verdict } from "../lib/requests.js";
import { launch } from "../lib/servers.js";

export const ATTACK_COOLDOWN_MS = 1_000;

export interface Flood {
  /** 401 answers per second. */
  rejectionsPerSec: number;
  p50: number;
  p99: number;
  total: number;
  /** Answers other than 401 (must be 0). */
  bad: number;
  firstBad?: string;
  /** JWKS requests that reached the issuer during the flood. */
  jwksFetches: number;
  /** At most one refetch per cooldown: ceil(duration / cooldown) + 1. */
  jwksFetchBound: number;
}

export interface AttackResult {
  cooldownMs: number;
  durationSec: number;
  /** Sanity check: a valid token from the same issuer is served. */
  validTokenServed: boolean;
  badSignature: Flood;
  randomKid: Flood;
  /** JWKS fetches from server start (warm-up) to the first flood. */
  jwksFetchesAtStart: number;
  readyMs: number;
  rssMiB: number | undefined;
  failed: boolean;
}

export async function runAttack(options: {
  dir: string;
  durationSec: number;
  connections: number;
  logLevel: string;
  log: (line: string) => void;
}): Promise<AttackResult> {
  const issuer = await startTestIssuer();
  try {
    const attackAuthFile = join(options.dir, "auth-attack.yaml");
    await writeOidcAuthFile(attackAuthFile, issuer, { jwks: { cooldown: ATTACK_COOLDOWN_MS } });
    const server = await launch({
      kind: "toolgate",
      dir: options.dir,
      name: "attack",
      env: {
        AUTH_MODE: "oauth2",
        AUTH_CONFIG_FILE: attackAuthFile,
        // The bench's project, whose `echo` the probe calls (the shipped project has no such tool).
        BENCH_TOOLGATE_PROJECT: TOOLGATE_PROJECT,
        DATA_DIR: join(options.dir, "data"),
        LOG_LEVEL: options.logLevel,
      },
    });
    try {
      const resource = `${server.base}/mcp`;
      const claims = { aud: resource, scope: TOOLGATE_TOOL.scope, client_id: "bench" };
      const call = (token: string) =>
        toolCall(MODERN, TOOLGATE_TOOL.name, TOOLGATE_TOOL.arguments, { authorization: `Bearer ${token}` });

      const valid = issuer.token(claims);
      const probe = await send(server.base, call(valid));
      // The token's tool call answered: a result, not a tool error (an unknown tool is one).
      const validTokenServed = probe.status === 200 && verdict(probe.body) === "ok";
      if (!validTokenServed) options.log(`  a valid token was NOT served: ${probe.status} ${probe.body.slice(0, 200)}`);

      const [header, payload] = valid.split(".") as [string, string];
      const badSignature = `${header}.${payload}.${b64url(randomBytes(256))}`;
      const fixedSignature = b64url(randomBytes(256));
      const randomKid = () =>
        `${b64url({ alg: "RS256", typ: "at+jwt", kid: randomBytes(12).toString("hex") })}.${payload}.${fixedSignature}`;

      const jwksFetchesAtStart = issuer.jwksFetches;
      const flood = async (make: () => string, dynamic: boolean): Promise<Flood> => {
        const before = issuer.jwksFetches;
        const first = call(make());
        const load = await runLoad({
          base: server.base,
          request: first,
          connections: options.connections,
          durationSec: options.durationSec,
          expectStatus: 401,
          ...(dynamic ? { setupRequest: () => call(make()) } : {}),
        });
        return {
          rejectionsPerSec: load.rps,
          p50: load.p50,
          p99: load.p99,
          total: load.total,
          bad: load.bad,
          ...(load.firstBad ? { firstBad: load.firstBad } : {}),
          jwksFetches: issuer.jwksFetches - before,
          jwksFetchBound: Math.ceil((options.durationSec * 1000) / ATTACK_COOLDOWN_MS) + 1,
        };
      };
      const bad = await flood(() => badSignature, false);
      options.log(
        `  bad signature: ${bad.rejectionsPerSec.toFixed(0)} rejections/s, p99 ${bad.p99} ms, JWKS fetches ${bad.jwksFetches}${bad.bad ? `, BAD ${bad.bad}: ${bad.firstBad}` : ""}`,
      );
      const kid = await flood(randomKid, true);
      options.log(
        `  random kid:    ${kid.rejectionsPerSec.toFixed(0)} rejections/s, p99 ${kid.p99} ms, JWKS fetches ${kid.jwksFetches} (bound ${kid.jwksFetchBound})${kid.bad ? `, BAD ${kid.bad}: ${kid.firstBad}` : ""}`,
      );
      return {
        cooldownMs: ATTACK_COOLDOWN_MS,
        durationSec: options.durationSec,
        validTokenServed,
        badSignature: bad,
        randomKid: kid,
        jwksFetchesAtStart,
        readyMs: server.readyMs,
        rssMiB: server.rssMiB(),
        failed: !validTokenServed || bad.bad > 0 || kid.bad > 0 || kid.jwksFetches > kid.jwksFetchBound,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await issuer.close();
  }
}
