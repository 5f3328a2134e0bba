/**
 * A test-only speed-up for the mutation test: memoises `Ajv2020#compile` by (options, formats,
 * schema). The generator builds a fresh ajv per tool schema on every run (~250 ms for the shipped
 * tools.yaml); damaged variants leave most schemas intact, so a run costs ~25 ms with this. ajv is
 * deterministic, so the memo is transparent: a cached compile returns the same validator or throws
 * the same error. Standalone-code instances (the emitters, `code.source`) are never memoised. The
 * mutation test checks the transparency on a sample by comparing diagnostics with and without it.
 */
import { Ajv2020 } from "ajv/dist/2020.js";

type Compile = Ajv2020["compile"];
const original: Compile = Ajv2020.prototype.compile;
const cache = new Map<string, { validate: unknown } | { error: unknown }>();
let hits = 0;

function memoised(this: Ajv2020, schema: unknown, meta?: boolean): unknown {
  const opts = this.opts as Ajv2020["opts"] & Record<string, unknown>;
  if (opts.code?.source) return original.call(this, schema as object, meta);
  const key = JSON.stringify([
    opts.strict,
    opts.allErrors,
    opts.useDefaults,
    opts.verbose,
    opts.discriminator,
    opts.allowUnionTypes,
    opts.ownProperties,
    opts.multipleOfPrecision,
    Object.keys(this.formats).sort(),
    meta ?? null,
    schema,
  ]);
  let hit = cache.get(key);
  if (hit) hits++;
  else {
    try {
      hit = { validate: original.call(this, schema as object, meta) };
    } catch (error) {
      hit = { error };
    }
    cache.set(key, hit);
  }
  if ("error" in hit) throw hit.error;
  return hit.validate;
}

export function installAjvMemo(): void {
  Ajv2020.prototype.compile = memoised as Compile;
}

export function uninstallAjvMemo(): void {
  Ajv2020.prototype.compile = original;
  cache.clear();
}

/** How many compiles the memo answered (proof that it is in the generator's path). */
export const ajvMemoHits = (): number => hits;
