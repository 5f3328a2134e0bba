import type { Diagnostic } from "./diagnostics.js";
import type { YamlSource } from "./yaml-source.js";

// auth.yaml's data, read defensively (the schema check may have failed).
type Raw = any;

/**
 * AUTH012: an API key or HS256 secret written into the file itself instead of through a `${VAR}`
 * placeholder — it works, but the secret then sits in a file that is usually committed. The default
 * of a placeholder (`${MCP_API_KEY:-tgk_…}` with the variable unset) is written in the file too, and
 * is live without anyone setting anything: reported with `defaultSeverity` (the server refuses it
 * in production). Reported by the generator (CI) and logged by the server at startup; never with
 * the value.
 */
export function literalSecrets(
  source: YamlSource,
  severity: Diagnostic["severity"],
  defaultSeverity: Diagnostic["severity"] = severity,
): Diagnostic[] {
  const raw = source.value as Raw;
  const paths: (string | number)[][] = [];
  (Array.isArray(raw?.apiKeys?.keys) ? raw.apiKeys.keys : []).forEach((entry: Raw, i: number) => {
    if (typeof entry?.key === "string" && entry.key !== "") paths.push(["apiKeys", "keys", i, "key"]);
  });
  (Array.isArray(raw?.authorizationServers) ? raw.authorizationServers : []).forEach((entry: Raw, i: number) => {
    if (typeof entry?.sharedSecret === "string" && entry.sharedSecret !== "")
      paths.push(["authorizationServers", i, "sharedSecret"]);
  });
  return paths.flatMap((path): Diagnostic[] => {
    const name = String(path.at(-1));
    const at = { file: source.file, ...source.locate(path), code: "AUTH012" };
    if (!source.fromPlaceholder(path))
      return [
        {
          ...at,
          severity,
          message: `${name} is written in the file: give it through a \${VAR} placeholder so the secret stays out of version control`,
        },
      ];
    if (source.fromDefault(path))
      return [
        {
          ...at,
          severity: defaultSeverity,
          message: `${name} comes from the default of its \${VAR:-default} placeholder, which is written in the file (its variable is unset): set the variable, or remove the default so the secret stays out of version control`,
        },
      ];
    return [];
  });
}
