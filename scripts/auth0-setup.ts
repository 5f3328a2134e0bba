/**
 * `[AUTH0_MANAGEMENT_TOKEN=…] npm run auth0:setup -- [--resource URL] [--apply --domain TENANT] [--prune] [--offline-access]`
 *
 * Derives the Auth0 API (a Management API "resource server") from the same source of truth as the
 * server: the scope catalogue and `requiredScopes` of auth.yaml, and the scopes tools.yaml's tools
 * need. Without `--apply` it sends nothing: it prints the JSON it would send and the dashboard
 * steps that no call here makes. With `--apply` and a Management API token (AUTH0_MANAGEMENT_TOKEN;
 * it needs read:resource_servers, create:resource_servers and update:resource_servers) it looks
 * the API up by identifier and creates it (POST) or updates it (PATCH), keeping permissions that
 * are not in auth.yaml unless `--prune` is given. `--token TOKEN` still works, for compatibility,
 * but puts the token in the process arguments (`ps`) and the shell history.
 *
 * The token is never printed: one that is not a single word of visible ASCII is refused before
 * use, without showing it; a request that cannot be sent is reported by its error code only (a
 * fetch error's message may quote the Authorization header); an answer that quotes it is redacted.
 *
 * The identifier is the MCP resource URL: `--resource`, else auth.yaml's `resource` after its
 * `${MCP_RESOURCE_URL:-}` placeholder is substituted — the URL MCP clients send as `resource` and
 * toolgate expects as the token audience.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { authSchema, validateAuthFile } from "../generated/auth-schema.js";
import { type Diagnostic, formatDiagnostic } from "../src/config/diagnostics.js";
import { type SchemaError, schemaErrorsToDiagnostics } from "../src/config/schema-diagnostics.js";
import { parseYamlSource } from "../src/config/yaml-source.js";

const USAGE = `usage: npm run auth0:setup -- [--resource URL] [--auth FILE] [--tools FILE] [--name NAME]
                           [--apply --domain TENANT] [--prune] [--offline-access]
  Without --apply: prints the Auth0 API that auth.yaml and tools.yaml imply, and the dashboard steps.
  With --apply, set the Management API token in the environment:
    AUTH0_MANAGEMENT_TOKEN=… npm run auth0:setup -- --apply --domain TENANT
  --resource        the public MCP URL, the API identifier (default: auth.yaml's resource, i.e. MCP_RESOURCE_URL)
  --auth            the auth file (default: AUTH_CONFIG_FILE, else auth.yaml)
  --tools           the tools file (default: tools.yaml)
  --name            the API's display name in Auth0 (default: auth.yaml's resourceName, else tools.yaml's
                    server name, else toolgate)
  --apply           create or update the API through the Management API
  --domain          the tenant domain without protocol (default: AUTH0_DOMAIN)
  --token           a Management API token instead of AUTH0_MANAGEMENT_TOKEN; still accepted, but other
                    users see it in \`ps\` and it stays in the shell history: prefer the variable
  --prune           on update, remove permissions that auth.yaml does not declare
  --offline-access  allow refresh tokens for the API (allow_offline_access: true)
  --base-url        the Management API origin (default: https://TENANT); for tests`;

const MANAGEMENT_SCOPES = "read:resource_servers, create:resource_servers and update:resource_servers";

class SetupError extends Error {}

interface Permission {
  value: string;
  description: string;
}

/** What auth.yaml and tools.yaml imply for the Auth0 API. */
interface ApiPlan {
  identifier: string;
  /** Where the identifier came from, for the printout. */
  identifierFrom: string;
  name: string;
  permissions: Permission[];
  /** Tool name -> the scopes its oauth2 scheme requires, and whether it also allows noauth. */
  tools: { name: string; scopes: string[]; allowsAnonymous: boolean }[];
  /** An auth0 entry's `audience` (after substitution), when one is set. */
  audience?: string[];
  warnings: string[];
}

interface Options {
  authFile: string;
  toolsFile: string;
  resource?: string;
  name?: string;
  env: NodeJS.ProcessEnv;
}

const words = (v: unknown): string[] =>
  typeof v === "string"
    ? v.split(/\s+/).filter(Boolean)
    : Array.isArray(v)
      ? v.filter((s): s is string => typeof s === "string")
      : [];

function fail(diagnostics: Diagnostic[], summary: string): never {
  throw new SetupError(`${summary}:\n${diagnostics.map(formatDiagnostic).join("\n")}`);
}

/** A file's text, or a one-line SetupError naming it and the option that names it. */
function readText(file: string, option: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new SetupError(`cannot read ${file} (${typeof code === "string" ? code : "error"}): pass ${option} FILE`);
  }
}

/** Reads both files the way toolgate does (parseYamlSource, ${VAR} substitution, the auth.yaml schema). */
function planApi(options: Options): ApiPlan {
  const auth = parseYamlSource(options.authFile, readText(options.authFile, "--auth"), {
    env: options.env,
    unsetSeverity: "warning",
    schema: authSchema,
  });
  const authErrors = auth.diagnostics.filter((d) => d.severity === "error");
  if (authErrors.length > 0 || auth.value === undefined) fail(authErrors, `${options.authFile} is invalid`);
  if (!validateAuthFile(auth.value)) {
    const errors = (validateAuthFile as { errors?: SchemaError[] | null }).errors ?? [];
    fail(schemaErrorsToDiagnostics(auth, errors), `${options.authFile} is invalid`);
  }
  const tools = parseYamlSource(options.toolsFile, readText(options.toolsFile, "--tools"));
  if (tools.diagnostics.length > 0 || tools.value === undefined)
    fail(tools.diagnostics, `${options.toolsFile} is invalid`);

  const rawAuth = auth.value as Record<string, any>;
  const rawTools = tools.value as Record<string, any>;
  const warnings: string[] = [];

  let identifierFrom = "--resource";
  let identifier = options.resource;
  if (!identifier && typeof rawAuth.resource === "string" && rawAuth.resource) {
    identifier = rawAuth.resource;
    identifierFrom = options.env.MCP_RESOURCE_URL === identifier ? "MCP_RESOURCE_URL" : `${options.authFile} resource`;
  }
  if (!identifier)
    throw new SetupError(
      "no resource URL: pass --resource https://mcp.example.com/mcp or set MCP_RESOURCE_URL (the public URL of /mcp, as clients reach it)",
    );
  let url: URL;
  try {
    url = new URL(identifier);
  } catch {
    throw new SetupError(`the resource must be an absolute URL, not "${identifier.slice(0, 60)}"`);
  }
  if (url.hash) throw new SetupError("the resource must not have a #fragment (RFC 9728)");
  if (url.protocol !== "https:")
    warnings.push(`${identifier} is not https: toolgate refuses it with NODE_ENV=production (AUTH002)`);

  const catalogue = (rawAuth.scopes ?? {}) as Record<string, string>;
  const permissions: Permission[] = Object.entries(catalogue).map(([value, description]) => ({ value, description }));
  const known = new Set(Object.keys(catalogue));
  const add = (value: string, description: string) => {
    if (known.has(value) || value === "offline_access") return;
    known.add(value);
    permissions.push({ value, description });
  };

  const toolList: ApiPlan["tools"] = [];
  for (const [name, tool] of Object.entries((rawTools.tools ?? {}) as Record<string, any>)) {
    const schemes: any[] = Array.isArray(tool?.securitySchemes) ? tool.securitySchemes : [];
    const scopes = schemes.filter((s) => s?.type === "oauth2").flatMap((s) => words(s.scopes));
    for (const scope of scopes) {
      if (!Object.hasOwn(catalogue, scope))
        warnings.push(`tool ${name} needs scope ${scope}, which auth.yaml's scope catalogue does not declare`);
      add(scope, `Required by the tool ${name}.`);
    }
    toolList.push({ name, scopes, allowsAnonymous: schemes.some((s) => s?.type === "noauth") });
  }
  for (const scope of words(rawAuth.requiredScopes)) add(scope, "Required of every token (requiredScopes).");

  const auth0 = ((rawAuth.authorizationServers ?? []) as any[]).find((e) => e?.type === "auth0");
  const audience = words(auth0?.audience);
  if (audience.length > 0 && !audience.includes(identifier) && !auth0?.audienceIsNotResource)
    warnings.push(
      `auth.yaml's auth0 audience (AUTH0_AUDIENCE) is "${audience.join(" ")}", not ${identifier}: toolgate will refuse to start (AUTH005); unset AUTH0_AUDIENCE or make it equal`,
    );

  const name = options.name ?? rawAuth.resourceName ?? rawTools.server?.name ?? "toolgate";
  if (/[<>]/.test(name)) throw new SetupError(`the API name must not contain < or >: "${name}"`);
  return {
    identifier,
    identifierFrom,
    name,
    permissions,
    tools: toolList,
    ...(audience.length > 0 ? { audience } : {}),
    warnings,
  };
}

interface BodyOptions {
  offlineAccess: boolean;
}

/** POST /api/v2/resource-servers */
function createBody(plan: ApiPlan, options: BodyOptions): Record<string, unknown> {
  return {
    name: plan.name,
    identifier: plan.identifier,
    signing_alg: "RS256",
    scopes: plan.permissions,
    enforce_policies: true,
    token_dialect: "access_token_authz",
    ...(options.offlineAccess ? { allow_offline_access: true } : {}),
  };
}

/** PATCH /api/v2/resource-servers/{id}: the identifier cannot change; the name is left as it is in the tenant. */
function updateBody(
  plan: ApiPlan,
  existing: Permission[],
  options: BodyOptions & { prune: boolean },
): { body: Record<string, unknown>; kept: string[] } {
  const ours = new Set(plan.permissions.map((p) => p.value));
  const kept = options.prune ? [] : existing.filter((p) => !ours.has(p.value));
  return {
    kept: kept.map((p) => p.value),
    body: {
      signing_alg: "RS256",
      scopes: [...plan.permissions, ...kept.map(({ value, description }) => ({ value, description }))],
      enforce_policies: true,
      token_dialect: "access_token_authz",
      ...(options.offlineAccess ? { allow_offline_access: true } : {}),
    },
  };
}

function checkDomain(domain: string): string {
  if (/^[a-z]+:\/\/|\//i.test(domain))
    throw new SetupError(
      `the domain is a host name without protocol or path (e.g. example.eu.auth0.com), not "${domain.slice(0, 60)}"`,
    );
  return domain;
}

function dashboardSteps(plan: ApiPlan, domain: string | undefined): string {
  const tenant = domain ?? "YOUR_TENANT.auth0.com";
  const permissionList = plan.permissions.map((p) => p.value).join(", ");
  return [
    "Then, in the Auth0 dashboard (the Management API calls in brackets do the same):",
    '  1. Settings > Advanced: turn on Dynamic Client Registration (DCR), called "OIDC Dynamic Application',
    '     Registration" in older dashboards, so ChatGPT and Claude can register themselves.',
    '     [PATCH /api/v2/tenants/settings {"flags":{"enable_dynamic_client_registration":true}}]',
    "  2. Settings > Advanced: turn on the Resource Parameter Compatibility Profile, so the `resource` the",
    "     clients send selects this API; or set Default Audience (Settings > General > API Authorization",
    "     Settings) to the identifier. Without either, Auth0 issues tokens for its own APIs and toolgate",
    "     answers 401 invalid_token.",
    '     [PATCH /api/v2/tenants/settings {"resource_parameter_profile":"compatibility"}',
    `      or {"default_audience":${JSON.stringify(plan.identifier)}}]`,
    '     Where the same page offers "Include Issuer in Authorization Responses", turn it on too: clients',
    "     of MCP 2026-07-28 check the RFC 9207 `iss` parameter.",
    "  3. Authentication > your connection (e.g. Username-Password-Authentication) > Settings: turn on",
    '     "Promote Connection to Domain Level": dynamically registered clients are third-party applications',
    "     and can only use domain-level connections.",
    '     [PATCH /api/v2/connections/CONNECTION_ID {"is_domain_connection":true}]',
    `  4. Applications > APIs > ${plan.name} > Settings: if your tenant shows "Default Permissions for Third-Party`,
    '     Applications" (or an access policy for user access), authorize user-delegated access to:',
    `       ${permissionList}`,
    "  5. User Management > Roles: create a role holding the permissions your users need and assign it to",
    "     them. With RBAC on, a user without a permission does not get it in the token's `permissions` claim,",
    "     and toolgate answers 403 insufficient_scope.",
    "  6. Run toolgate with:",
    "       AUTH_MODE=oauth2",
    `       AUTH0_DOMAIN=${tenant}`,
    `       MCP_RESOURCE_URL=${plan.identifier}`,
    "       NODE_ENV=production",
    "     and leave AUTH0_AUDIENCE unset (it defaults to MCP_RESOURCE_URL).",
  ].join("\n");
}

function describePlan(plan: ApiPlan, options: Options): string {
  const width = Math.max(...plan.tools.map((t) => t.name.length), 4);
  const lines = [
    `The Auth0 API that ${options.authFile} and ${options.toolsFile} imply`,
    "",
    `  identifier   ${plan.identifier}   (from ${plan.identifierFrom})`,
    `  name         ${plan.name}`,
    `  permissions  ${plan.permissions.map((p) => p.value).join(" ")}`,
    "",
    "Which tool needs which permission:",
    ...plan.tools.map(
      (t) =>
        `  ${t.name.padEnd(width)}  ${t.scopes.length > 0 ? t.scopes.join(" ") : "(none)"}${
          t.allowsAnonymous ? (t.scopes.length > 0 ? "  (also callable signed out)" : "  (callable signed out)") : ""
        }`,
    ),
  ];
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join("\n");
}

interface Http {
  base: string;
  token: string;
}

async function call(http: Http, method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${http.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${http.token}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    // Never the message: undici quotes a refused header's value, i.e. the token.
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    const reason = typeof code === "string" && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : "the request could not be sent";
    throw new SetupError(`cannot reach ${http.base} (${reason})`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const answered = (json as { message?: unknown } | undefined)?.message;
    // The token is taken out of the whole answer before it is cut short: a cut could leave part of it.
    const detail = typeof answered === "string" ? redact(answered, http.token) : redact(text, http.token).slice(0, 200);
    const hint =
      response.status === 401
        ? ": the Management API token is invalid or expired"
        : response.status === 403
          ? `: the Management API token needs ${MANAGEMENT_SCOPES}`
          : "";
    throw new SetupError(`${method} ${path} answered ${response.status}${hint} (${detail})`);
  }
  return json;
}

interface ResourceServer {
  id: string;
  identifier: string;
  scopes?: Permission[];
}

async function findApi(http: Http, identifier: string): Promise<ResourceServer | undefined> {
  const found = await call(http, "GET", `/api/v2/resource-servers?identifiers=${encodeURIComponent(identifier)}`);
  const list = Array.isArray(found) ? found : ((found as { resource_servers?: unknown[] })?.resource_servers ?? []);
  return (list as ResourceServer[]).find((rs) => rs?.identifier === identifier);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      resource: { type: "string" },
      auth: { type: "string" },
      tools: { type: "string", default: "tools.yaml" },
      name: { type: "string" },
      apply: { type: "boolean", default: false },
      domain: { type: "string" },
      token: { type: "string" },
      prune: { type: "boolean", default: false },
      "offline-access": { type: "boolean", default: false },
      "base-url": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const env = process.env;
  const options: Options = {
    // An empty AUTH_CONFIG_FILE counts as unset, as the server reads it.
    authFile: values.auth || env.AUTH_CONFIG_FILE || "auth.yaml",
    toolsFile: values.tools,
    env,
    ...(values.resource ? { resource: values.resource } : {}),
    ...(values.name ? { name: values.name } : {}),
  };
  const plan = planApi(options);
  const bodyOptions = { offlineAccess: values["offline-access"] };
  const domainValue = values.domain ?? (env.AUTH0_DOMAIN || undefined);
  const domain = domainValue === undefined ? undefined : checkDomain(domainValue);
  const out = (text: string) => process.stdout.write(`${text}\n`);

  out(describePlan(plan, options));
  out("");
  if (!values.apply) {
    const target = `https://${domain ?? "YOUR_TENANT.auth0.com"}/api/v2/resource-servers`;
    out(`Dry run: nothing was sent. With --apply (and a Management API token) this goes to ${target}:`);
    out("");
    out("POST /api/v2/resource-servers");
    out(JSON.stringify(createBody(plan, bodyOptions), null, 2));
    out("");
    out(
      "or, when an API with this identifier exists, PATCH /api/v2/resource-servers/{id} with the same fields but\n" +
        "name and identifier (permissions already there and not in auth.yaml are kept unless --prune).",
    );
    out("");
    out(dashboardSteps(plan, domain));
    return;
  }

  const token = values.token ?? env.AUTH0_MANAGEMENT_TOKEN;
  if (!token) throw new SetupError(`--apply needs a Management API token: set AUTH0_MANAGEMENT_TOKEN\n${USAGE}`);
  // A token is one word of visible ASCII; anything else (a line break, a space from copying) would
  // end up in an error message quoting the Authorization header. Not shown: it is a secret.
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new SetupError(
      `the Management API token (${values.token === undefined ? "AUTH0_MANAGEMENT_TOKEN" : "--token"}) contains a line break, a space or another character a token cannot have: copy it again (it is not shown here)`,
    );
  const base = (values["base-url"] ?? (domain ? `https://${domain}` : undefined))?.replace(/\/+$/, "");
  if (!base) throw new SetupError("--apply needs the tenant: --domain TENANT or AUTH0_DOMAIN");
  const http: Http = { base, token };

  const existing = await findApi(http, plan.identifier);
  if (!existing) {
    const created = (await call(http, "POST", "/api/v2/resource-servers", createBody(plan, bodyOptions))) as
      | Partial<ResourceServer>
      | undefined;
    out(`created the API ${plan.name} (id ${created?.id ?? "?"}) with ${plan.permissions.length} permissions`);
  } else {
    const { body, kept } = updateBody(plan, existing.scopes ?? [], { ...bodyOptions, prune: values.prune });
    await call(http, "PATCH", `/api/v2/resource-servers/${encodeURIComponent(existing.id)}`, body);
    out(
      `updated the API ${existing.id} (${plan.identifier}) with ${plan.permissions.length} permissions from auth.yaml`,
    );
    if (kept.length > 0) out(`kept permissions not in auth.yaml: ${kept.join(" ")} (--prune removes them)`);
  }
  out("");
  out(dashboardSteps(plan, domain));
}

main().catch((error: unknown) => {
  const expected = error instanceof SetupError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  const message = expected ? (error as Error).message : String((error as Error)?.stack ?? error);
  process.stderr.write(`auth0:setup: ${message}\n`);
  process.exitCode = 1;
});

/** `text` with every occurrence of `token` replaced. */
const redact = (text: string, token: string): string => (token ? text.split(token).join("[token]") : text);
