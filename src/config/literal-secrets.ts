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
/**
 * Where auth.yaml holds secrets — the one list of them: the `field` of every entry of the list at
 * `list`. AUTH012 looks for secrets written into the file there (below); schema messages describe
 * the value there, and around it, by its kind (`isSecretValue`).
 */
const SECRET_FIELDS: readonly { list: readonly string[]; field: string }[] = [
  { list: ["apiKeys", "keys"], field: "key" },
  { list: ["authorizationServers"], field: "sharedSecret" },
];

/**
 * Whether a schema message must not show the value at `path` (schema-diagnostics.ts): a secret
 * field's, or one around it — anything under `apiKeys` but its header name and Bearer prefix, or
 * inside a shared secret: a key written where its entry or list goes (`keys: ["${MCP_API_KEY}"]`, a
 * likely slip) or nested a level too deep is a secret all the same. Covers every SECRET_FIELDS path.
 */
export function isSecretValue(path: readonly (string | number)[]): boolean {
  return (
    (path[0] === "apiKeys" && path[1] !== "header" && path[1] !== "bearerPrefix") ||
    (path[0] === "authorizationServers" && path.includes("sharedSecret"))
  );
}

/** The paths of the secrets `raw` holds (non-empty strings), in SECRET_FIELDS order. */
function secretPaths(raw: Raw): (string | number)[][] {
  return SECRET_FIELDS.flatMap(({ list, field }) => {
    const entries = list.reduce((value: Raw, key) => value?.[key], raw);
    if (!Array.isArray(entries)) return [];
    return entries.flatMap((entry: Raw, i: number) =>
      typeof entry?.[field] === "string" && entry[field] !== "" ? [[...list, i, field]] : [],
    );
  });
}

export function literalSecrets(
  source: YamlSource,
  severity: Diagnostic["severity"],
  defaultSeverity: Diagnostic["severity"] = severity,
): Diagnostic[] {
  return secretPaths(source.value).flatMap((path): Diagnostic[] => {
    const name = String(path.at(-1));
    const at = { file: source.file, ...source.locate(path), code: "AUTH012" as const };
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
