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
 * `list`. Schema messages describe the value there by its kind (schema-diagnostics.ts), AUTH012
 * looks for secrets written into the file there (below).
 */
const SECRET_FIELDS: readonly { list: readonly string[]; field: string }[] = [
  { list: ["apiKeys", "keys"], field: "key" },
  { list: ["authorizationServers"], field: "sharedSecret" },
];

/** Whether a path into auth.yaml's data (list indexes as numbers or digit strings) is a secret's. */
export function isSecretPath(path: readonly (string | number)[]): boolean {
  return SECRET_FIELDS.some(
    ({ list, field }) =>
      path.length === list.length + 2 && list.every((key, i) => path[i] === key) && path.at(-1) === field,
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
