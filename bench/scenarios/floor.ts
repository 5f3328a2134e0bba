/**
 * Part 4: the floor — jose verify operations per second on one core, RS256 and ES256, each in a
 * child process pinned to the server core.
 */
import { execChild } from "../lib/exec.js";
import { SERVER_CORE, tsxArgs } from "../lib/proc.js";

export interface FloorResult {
  rs256: number;
  es256: number;
  seconds: number;
}

export async function runFloor(seconds: number): Promise<FloorResult> {
  const one = async (alg: string) => {
    const out = await execChild(tsxArgs("bench/children/jose-floor.ts", alg, String(seconds)), {
      core: SERVER_CORE,
      timeoutMs: seconds * 1000 + 30_000,
    });
    return (JSON.parse(out) as { opsPerSec: number }).opsPerSec;
  };
  return { rs256: await one("RS256"), es256: await one("ES256"), seconds };
}
