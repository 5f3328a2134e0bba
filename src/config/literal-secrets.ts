import type { Diagnostic } from "./diagnostics.js";
import type { YamlSource } from "./yaml-source.js";

// auth.yaml's data, read defensively (the schema check may have failed).
type Raw = any;

/**
 * AUTH012: an API key or HS256 secret written into the file itself instead of through a `${VAR}`
 * placeholder — it works, but the secret then sits in a file that is usually committed. Reported by
 * the generator (CI) and logged by the server at startup; never with the value.
 */
export function literalSecrets(source: YamlSource, severity: Diagnostic["severity"]): Diagnostic[] {
  const raw = source.value as Raw;
  const paths: (string | number)[][] = [];
  (Array.isArray(raw?.apiKeys?.keys) ? raw.apiKeys.keys : []).forEach((entry: Raw, i: number) => {
    if (typeof entry?.key === "string" && entry.key !== "") paths.push(["apiKeys", "keys", i, "key"]);
  });
  (Array.isArray(raw?.authorizationServers) ? raw.authorizationServers : []).forEach((entry: Raw, i: number) => {
    if (typeof entry?.sharedSecret === "string" && entry.sharedSecret !== "")
      paths.push(["authorizationServers", i, "sharedSecret"]);
  });
  return paths
    .filter((path) => !source.fromPlaceholder(path))
    .map((path) => ({
      file: source.file,
      ...source.locate(path),
      severity,
      code: "AUTH012",
      message: `${String(path.at(-1))} is written in the file: give it through a \${VAR} placeholder so the secret stays out of version control`,
    }));
}
