/**
 * What the development server's provider reads from URLs a client names is bounded: oidc-provider
 * reads a jwks_uri or a sector_identifier_uri without a limit by default (a gzip bomb took the worker
 * to 1.7 GB), and an object given for `fetchResponseBodyLimits` replaces its defaults whole.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { clientMetadataDocumentHooks } from "../../src/dev-as/client-metadata-documents.js";
import { providerConfiguration } from "../../src/dev-as/provider-configuration.js";

/** The purposes oidc-provider fetches for, from its own defaults (so a new one in an upgrade is seen). */
async function providerFetchPurposes(): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("oidc-provider/package.json"));
  const defaults = await readFile(join(root, "lib", "helpers", "defaults.js"), "utf8");
  const block = /fetchResponseBodyLimits:\s*\{([^}]*)\}/.exec(defaults)?.[1] ?? "";
  return [...block.matchAll(/^\s*(?:'([^']+)'|(\w+))\s*:/gm)].map((m) => (m[1] ?? m[2]) as string).sort();
}

describe("the development provider's fetches", () => {
  it("have a finite size limit for every purpose oidc-provider fetches for, 64 KiB at most", async () => {
    const purposes = await providerFetchPurposes();
    expect(purposes).toEqual(["client_id metadata document", "jwks_uri", "sector_identifier_uri"]);
    const configuration = providerConfiguration({
      resource: "http://127.0.0.1:3000/mcp",
      scopes: ["search.read"],
      jwks: { keys: [] },
      accessTokenTtlSec: 600,
      cookieKeys: ["k"],
      clientMetadataDocuments: clientMetadataDocumentHooks(),
      invalidTarget: () => new Error("invalid_target"),
      invalidClientMetadata: (d) => new Error(d),
      adapter: () => {
        throw new Error("not used");
      },
    });
    const limits = configuration.fetchResponseBodyLimits as Record<string, number>;
    expect(Object.keys(limits).sort()).toEqual(purposes);
    for (const purpose of purposes) {
      expect(Number.isFinite(limits[purpose]), purpose).toBe(true);
      expect(limits[purpose], purpose).toBeLessThanOrEqual(64 * 1024);
    }
  });
});
