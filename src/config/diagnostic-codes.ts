/**
 * Every diagnostic code toolgate reports for a user's file (`file:line:col: error CODE: message`):
 * what it means and how to fix it. The one list: `Diagnostic.code` is typed from it (so no check can
 * report a code it does not explain), the generator's rules take their titles from it,
 * docs/diagnostics.md is rendered from it by `npm run generate`, and `npm run generate -- --explain
 * CODE` prints an entry.
 */

export interface DiagnosticCodeInfo {
  /** `error` stops `npm run generate` (nothing is written) and the server's start; a `warning` stops neither. */
  severity: "error" | "warning" | "error or warning";
  /** The file it points into. */
  file: string;
  /** What the check requires, in one sentence. */
  title: string;
  /** When it is reported, and why it matters. */
  explanation: string;
  /** What to change. */
  fix: string;
}

/** The file of the shipped environment-variable list: toolgate's own source, not a user's. */
const ENVIRONMENT_LIST = "schema/environment.json (toolgate's own list of environment variables)";

export const DIAGNOSTIC_CODES = {
  GEN000: {
    severity: "error",
    file: "tools.yaml (at 1:1)",
    title: "The generator did not fail unexpectedly",
    explanation:
      "Something no check foresaw stopped `npm run generate` (a file that could not be read or written, a bug). The message says what, and whether anything was written: generated/ is replaced whole or not at all.",
    fix: "Read the reason in the message (a permission, a full disk…); if it looks like toolgate's fault, report it with the tools.yaml that causes it.",
  },
  GEN001: {
    severity: "error",
    file: "generated (the output folder)",
    title: "The output folder is a real folder, or absent",
    explanation:
      "`npm run generate` replaces generated/ whole by renaming a new folder into its place: a symbolic link would be replaced by a real folder (its target left stale), and a file would be moved aside.",
    fix: "Make generated/ a real folder (or remove it) and generate again.",
  },
  HANDLER001: {
    severity: "warning",
    file: "src/handlers/<name>.ts",
    title: "Every handler file belongs to a tool of tools.yaml",
    explanation:
      "A handler whose tool is gone (removed or renamed) is kept — the generator never deletes your code — but no longer type-checks against the generated types, so `npm run typecheck` and the build fail on it. When the same run created a stub for a new tool, the tool was likely renamed and the message names the stub.",
    fix: "Move the code into the new tool's stub (with its name in `defineHandler`) and delete the old file, or delete it, or restore the tool.",
  },
  YAML001: {
    severity: "error",
    file: "tools.yaml, auth.yaml",
    title: "The file is well-formed YAML: one document, every alias after its anchor, merge keys that merge maps",
    explanation:
      "A YAML syntax error (the parser's own message, at the place it stopped), a second document (`---`), an alias `*name` with no anchor `&name` before it or inside the value it stands for, a merge key `<<` whose value is not a map or a list of maps, or aliases that together stand for more than 100,000 values (a limit against “billion laughs” files).",
    fix: "Correct the YAML at the position shown; keep one document per file; define each anchor before its aliases.",
  },
  YAML002: {
    severity: "error",
    file: "tools.yaml, auth.yaml",
    title: "No map has the same key twice",
    explanation:
      "YAML parsers disagree about a repeated key (the first or the last wins, or an error), so toolgate refuses it rather than guess which one you meant. Keys a merge (`<<: *name`) brings in are not counted: a map's own keys override them.",
    fix: "Remove or rename one of the two keys; the message names the key, and the position is the second one.",
  },
  ENV001: {
    severity: "error",
    file: "auth.yaml",
    title: "A placeholder is `${NAME}` or `${NAME:-default}`",
    explanation:
      "A `${` without its closing `}`, or a name that is not letters, digits and `_`. Only the placeholder's name is shown: the default after `:-` may be a secret. `$${` writes a literal `${`.",
    fix: "Close the placeholder, or write `$${` for a literal `${`.",
  },
  ENV002: {
    severity: "error or warning",
    file: "auth.yaml",
    title: "Every `${NAME}` without a default names a variable that is set",
    explanation:
      "A warning in `npm run generate` (the variable may be set only where the server runs); an error when the server starts. A value made only of placeholders that came out empty counts as not written, so an optional setting written as `${NAME:-}` is simply off while the variable is unset.",
    fix: "Set the variable where the server runs (the environment, or `.env`, which the server reads and `npm run generate` does not), or give a default: `${NAME:-default}`, or `${NAME:-}` for an optional setting.",
  },
  ENV010: {
    severity: "error",
    file: ENVIRONMENT_LIST,
    title: "Each environment variable is listed once",
    explanation: "For toolgate's developers: docs/configuration.md and .env.example are rendered from this list.",
    fix: "Merge the two entries.",
  },
  ENV011: {
    severity: "error",
    file: ENVIRONMENT_LIST,
    title: "An environment variable has a `default` or a `defaultText`, not both",
    explanation:
      "For toolgate's developers: `default` is a value, `defaultText` a description of a default that is no single value.",
    fix: "Keep one of the two.",
  },
  SCHEMA001: {
    severity: "error",
    file: "tools.yaml, auth.yaml",
    title: "Every key is one the file's JSON Schema (schema/*.schema.json) allows",
    explanation:
      "Usually a typo: the message suggests the closest allowed key, or lists the allowed ones. An unknown key is an error rather than ignored, so a misspelt setting never silently keeps its default.",
    fix: "Use the suggested key; every key is described in docs/configuration.md.",
  },
  SCHEMA002: {
    severity: "error",
    file: "tools.yaml, auth.yaml",
    title: "Every required key is there",
    explanation:
      "For example a tool without `description` or `securitySchemes`, or auth.yaml without `mode`. A key whose value is only placeholders that came out empty counts as not written, and the message says so.",
    fix: "Add the key (docs/configuration.md lists what each mapping requires), or set the variable its placeholder reads.",
  },
  SCHEMA003: {
    severity: "error",
    file: "tools.yaml, auth.yaml",
    title: "Every value has the type its key takes",
    explanation:
      "A string where a list is expected, a number where a string is, and so on. For a string of words where a list of strings goes (`scopes: docs.write search.read`, `algorithms: RS256 ES256`), the message shows the list it probably means.",
    fix: "Write the value as the type the message names; docs/configuration.md gives each key's type.",
  },
  SCHEMA004: {
    severity: "error",
    file: "tools.yaml, auth.yaml",
    title: "Every value is one its key allows",
    explanation:
      "A value outside an enumeration (with the closest allowed value suggested), a number out of range, a string that does not match the required pattern or format, a tool name or scope with characters it may not have, a list too short or too long. A secret's value is never shown.",
    fix: "Use a value the message lists or describes; docs/configuration.md gives each key's allowed values.",
  },
  AUTH001: {
    severity: "error",
    file: "auth.yaml",
    title: "`resource` is an absolute URL without a #fragment",
    explanation:
      "`resource` (or MCP_RESOURCE_URL) is the MCP endpoint's URL as clients reach it: the `resource` of the Protected Resource Metadata and the default audience of tokens (RFC 9728 forbids a fragment).",
    fix: "Write the full URL, e.g. `https://mcp.example.com/mcp`, or leave it out for `http://HOST:PORT/mcp`.",
  },
  AUTH002: {
    severity: "error",
    file: "auth.yaml",
    title: "In production, `resource` is an https URL",
    explanation:
      "Reported when NODE_ENV is production: bearer tokens sent over plain http can be read on the way, and MCP clients refuse an http resource that is not on the local machine.",
    fix: "Set `resource` to the https URL clients reach, e.g. behind your TLS-terminating proxy (the shipped auth.yaml takes it from MCP_RESOURCE_URL).",
  },
  AUTH003: {
    severity: "error",
    file: "auth.yaml",
    title: "An Auth0 `domain` is a plain host name",
    explanation:
      "The issuer is built as `https://DOMAIN/`, so a protocol, path, port, user name or query in `domain` would make every token's issuer mismatch.",
    fix: "Write the tenant's host only, e.g. `example.eu.auth0.com` (not `https://example.eu.auth0.com/`).",
  },
  AUTH004: {
    severity: "error",
    file: "auth.yaml",
    title:
      "An authorization server's issuer, `jwksUri` and `authorizationEndpoint` are http(s) URLs, https in production",
    explanation:
      "Keys fetched or sign-ins sent over plain http could be replaced on the way: in production (NODE_ENV=production) only https is accepted; elsewhere http too (a local issuer), and no other scheme.",
    fix: "Use the https URL the provider publishes (its `/.well-known/openid-configuration` lists them), or leave `jwksUri` / `authorizationEndpoint` out to have them discovered.",
  },
  AUTH005: {
    severity: "error",
    file: "auth.yaml",
    title: "An `audience` other than `resource` is confirmed with `audienceIsNotResource: true`",
    explanation:
      "MCP clients ask for tokens for the resource URL (RFC 8707). Accepting another audience also accepts tokens minted for that other API — the confused-deputy risk the MCP authorization spec warns about — so it must be deliberate, also when the list holds `resource` too.",
    fix: "Make `audience` equal to `resource` (in Auth0, an API whose identifier is the MCP URL), or add `audienceIsNotResource: true` if the other audience is intended.",
  },
  AUTH006: {
    severity: "error",
    file: "auth.yaml",
    title: "HS256 comes with a `sharedSecret` of at least 32 bytes, and only with one",
    explanation:
      "A shorter HMAC secret can be guessed offline from any token; HS256 in `algorithms` without `sharedSecret` would have nothing to verify with (and algorithms are never taken from the token).",
    fix: "Give a `sharedSecret` of at least 32 random bytes through a placeholder (`${JWT_SECRET}`), or remove HS256 from `algorithms`.",
  },
  AUTH007: {
    severity: "error",
    file: "auth.yaml",
    title: "An API key's `sha256` is 64 hexadecimal digits",
    explanation: "`sha256` is the key's SHA-256 digest in hex, so that the key itself need not be written anywhere.",
    fix: "Use `printf %s KEY | sha256sum` and paste the 64 digits.",
  },
  AUTH008: {
    severity: "error",
    file: "auth.yaml",
    title: "An API key is at least 16 characters",
    explanation: "A short key can be guessed. The key is never shown in the message.",
    fix: "Use a long random key, e.g. `tgk_` followed by `openssl rand -hex 24`.",
  },
  AUTH009: {
    severity: "error",
    file: "auth.yaml",
    title: "Mode `api-key` has at least one key",
    explanation:
      "Without a key nobody could call anything in this mode. Not reported while the keys come from placeholders.",
    fix: "Add an entry under `apiKeys.keys` (the shipped auth.yaml has one whose `key` comes from MCP_API_KEY or MCP_API_KEYS: set either).",
  },
  AUTH010: {
    severity: "error",
    file: "auth.yaml",
    title: "In production, modes `oauth2` and `optional` have an authorization server",
    explanation:
      "Reported when NODE_ENV is production: the development authorization server, which otherwise stands in, accepts any login name and never runs in production.",
    fix: "Add an entry under `authorizationServers` (the shipped auth.yaml has an `auth0` one that AUTH0_DOMAIN turns on).",
  },
  AUTH011: {
    severity: "warning",
    file: "auth.yaml",
    title: "Every scope in `requiredScopes` is declared in the scope catalogue",
    explanation:
      "A required scope the catalogue does not declare is likely a typo: every token would lack it (403). `openid` and `offline_access` need no declaration.",
    fix: "Add the scope under `scopes`, or correct its spelling.",
  },
  AUTH012: {
    severity: "error or warning",
    file: "auth.yaml",
    title: "API keys and shared secrets come from `${VAR}` placeholders, not the file",
    explanation:
      "A key or secret written in auth.yaml ends up in version control. A warning for a literal value and for the default of a `${VAR:-default}` used because the variable is unset — except that in production (NODE_ENV=production) the server refuses to start on such a default.",
    fix: "Write `${MCP_API_KEY}` (or another variable) and set the variable where the server runs; store only `sha256` digests in the file if you must.",
  },
  AUTH013: {
    severity: "error",
    file: "auth.yaml",
    title: "`developmentServer.enabled: true` is never set in production nor beside a real authorization server",
    explanation:
      "The development authorization server accepts any login name: beside a real one it would let anyone mint tokens this server trusts, and in production it must not run at all. `auto` (the default) already leaves it out in both cases.",
    fix: "Remove `developmentServer.enabled` (auto), or remove the authorization server.",
  },
  AUTH014: {
    severity: "error",
    file: "auth.yaml",
    title: "Scopes are separated with spaces, not commas",
    explanation:
      "`requiredScopes: a,b` (or an API key's `scopes`) is one scope named `a,b` that nobody grants, so every token or key would get 403. Reported for an undeclared scope holding a comma.",
    fix: "Write `a b` or a list `[a, b]`.",
  },
  TOOLS001: {
    severity: "error",
    file: "tools.yaml",
    title:
      "A tool name follows the MCP rule (1–128 characters of A-Z a-z 0-9 _ . -), is no built-in JavaScript property name and gives no declaration-file name nor a file name Windows reserves for a device",
    explanation:
      "The name is the key of the generated maps and the name of the handler file `src/handlers/<name>.ts`: `__proto__` or `constructor` would clash with what every object inherits, `x.d.ts`-like names are not compiled by TypeScript, and `con`, `nul`, `com1`… cannot be files on Windows.",
    fix: "Rename the tool.",
  },
  TOOLS002: {
    severity: "error",
    file: "tools.yaml",
    title: "A tool's input schema has `type: object` at its root",
    explanation: "MCP tool arguments are a JSON object (`inputSchema` must describe one).",
    fix: "Put the arguments under `properties` of an object schema: `input: {type: object, properties: {...}}`.",
  },
  TOOLS003: {
    severity: "error",
    file: "tools.yaml",
    title: "A tool's output schema has `type: object` at its root",
    explanation: "A tool's structured result (`structuredContent`) is a JSON object.",
    fix: "Wrap the result in an object: `output: {type: object, properties: {items: {type: array, ...}}}`.",
  },
  TOOLS004: {
    severity: "error",
    file: "tools.yaml",
    title: "Every tool schema compiles in ajv 2020 strict mode",
    explanation:
      "The schemas are compiled as JSON Schema 2020-12 in ajv's strict mode: an unknown keyword or format, a keyword that does nothing where it is (e.g. `minimum` without a numeric `type`), a tuple (`prefixItems`) not closed (`minItems` equal to its length, and `maxItems` equal too or `items: false`), a `$ref` that does not resolve, a `$schema` of another draft, a number JSON cannot carry (`.inf`, `.nan`), or a `default` that would never be filled in (in a branch of `oneOf`/`anyOf`, or on a property named after an Object.prototype member). Also a non-finite number in a tool's `meta`.",
    fix: "Follow the message (it quotes ajv); the README's step 1 lists what strict mode refuses and why.",
  },
  TOOLS005: {
    severity: "error",
    file: "tools.yaml",
    title:
      "No two tools share a generated identifier, type name or file name (file names compared ignoring case, as macOS and Windows do)",
    explanation:
      "Tool names map to identifiers (`docs.create` → `DocsCreate…`) and handler files; two names that map to the same one (`a.b` and `a_b`, or `Search` and `search`) would overwrite each other's types or files.",
    fix: "Rename one of the two tools the message names.",
  },
  TOOLS006: {
    severity: "error",
    file: "tools.yaml",
    title: "A noauth scheme carries no scopes",
    explanation:
      "`noauth` means anyone may call the tool; scopes there would suggest a restriction that does not exist.",
    fix: "Move the scopes to an `oauth2` scheme of the same tool.",
  },
  TOOLS007: {
    severity: "error",
    file: "tools.yaml",
    title: "Each scheme type appears at most once per tool",
    explanation: "Two `oauth2` schemes would leave unclear whether a caller needs the scopes of one or of both.",
    fix: "Merge the scopes into one `oauth2` scheme (a caller needs every scope listed), or remove the repeated `noauth`.",
  },
  TOOLS010: {
    severity: "error",
    file: "tools.yaml",
    title: "Every scope a tool requires is declared in auth.yaml's scope catalogue",
    explanation:
      "The catalogue is the set of scopes the server knows: `npm run auth0:setup` registers it with Auth0, the Protected Resource Metadata advertises it (`scopes_supported`), the development server grants from it. A scope missing there is usually a typo, and would never be granted.",
    fix: "Add the scope with a description under `scopes` in auth.yaml, or use the suggested declared one.",
  },
  TOOLS011: {
    severity: "warning",
    file: "tools.yaml",
    title: "An oauth2 scheme names the scopes it needs",
    explanation: "Without scopes any signed-in caller may call the tool — sometimes intended, often an oversight.",
    fix: "List the scopes under the scheme's `scopes`, or keep it as it is if any signed-in caller is meant.",
  },
  TOOLS012: {
    severity: "warning",
    file: "tools.yaml",
    title: "Every tool can be called in the configured auth mode",
    explanation:
      "In mode `anonymous` nobody signs in, so a tool whose schemes are `oauth2` only is neither listed nor callable.",
    fix: "Add a `noauth` scheme to the tool, or use mode `optional` or `oauth2`.",
  },
  TOOLS013: {
    severity: "error",
    file: "tools.yaml",
    title: "`x-mcp-header` names a primitive top-level argument with a header-safe, unique name (SEP-2243)",
    explanation:
      "An argument mirrored into an `Mcp-Param-*` request header must be a string, number, integer or boolean at the top level of the arguments, its header name an HTTP token, and no two arguments of a tool may use the same header (names ignore case).",
    fix: "Put `x-mcp-header` on a primitive top-level property only, with a name of letters, digits and `-`, once per tool.",
  },
  TOOLS014: {
    severity: "error",
    file: "tools.yaml",
    title: "Every tool schema that compiles can be turned into TypeScript types (each $ref resolves inside its schema)",
    explanation:
      "generated/types.ts is made with json-schema-to-typescript, which resolves `$ref` only inside the tool's own schema (`#/$defs/...`), not across tools or over the network.",
    fix: "Move the referenced schema into the tool's `$defs` (a YAML anchor and alias can share it between tools).",
  },
  TOOLS015: {
    severity: "error",
    file: "tools.yaml",
    title: "Every default in a tool schema is valid against the schema it is in",
    explanation:
      "The validator fills defaults in before the handler runs (and, for outputs, after it returns) without checking them: an invalid default would reach the handler, or be advertised to clients, as a value the schema forbids.",
    fix: "Change the default to a value the property's schema accepts, or remove it.",
  },
  TOOLS016: {
    severity: "error",
    file: "tools.yaml",
    title:
      "No two tools' schemas share an $id, where one of them is a schema's root $id, unless they are the same schema",
    explanation:
      "MCP clients keep compiled schemas by `$id`: the official SDK clients checked the second tool's results against the first tool's schema, or failed to compile it. The same schema reused through a YAML alias is fine.",
    fix: "Give each schema its own `$id`, or leave `$id` out (toolgate needs none).",
  },
  TOOLS017: {
    severity: "error",
    file: "tools.yaml",
    title: "A property an object requires is one it may have (additionalProperties or unevaluatedProperties false)",
    explanation:
      "A `required` entry that names no declared property of an object allowing no others can never be satisfied: the tool could never be called (input), or every result would be refused (output). Usually a typo; the message suggests the closest declared name.",
    fix: "Correct the name in `required`, or declare the property.",
  },
  TOOLS018: {
    severity: "warning",
    file: "tools.yaml",
    title: "An output schema avoids what MCP clients' own validators get wrong",
    explanation:
      "Clients check `structuredContent` against the output schema with their own validator, which toolgate's passing result does not guarantee they accept: a decimal `multipleOf` (0.01: float division refuses 0.07), an optional property named after an Object.prototype member (refused when left out), `items` beside `prefixItems` (a draft-07 client reads `items` as every item's schema).",
    fix: "Follow the message: `type: integer` over cents instead of `multipleOf: 0.01`, another property name, `minItems` and `maxItems` equal to the number of `prefixItems` to close a tuple instead of `items`.",
  },
} as const satisfies Record<string, DiagnosticCodeInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export const isDiagnosticCode = (code: string): code is DiagnosticCode => Object.hasOwn(DIAGNOSTIC_CODES, code);

/** One entry as plain text, for `npm run generate -- --explain CODE`. */
export function explainDiagnosticCode(code: DiagnosticCode): string {
  const info: DiagnosticCodeInfo = DIAGNOSTIC_CODES[code];
  return [`${code} (${info.severity}, ${info.file}): ${info.title}`, "", info.explanation, "", `Fix: ${info.fix}`].join(
    "\n",
  );
}
