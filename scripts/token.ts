/**
 * `npm run token -- [--scope "docs.write memory.read"] [--client NAME] [--url URL] [--data-dir DIR]`
 *
 * Prints an access token from the development authorization server of a running toolgate server,
 * and nothing else on stdout, so `TOKEN=$(npm run --silent token -- --scope docs.write)` works.
 * Without --scope it asks for every scope in the server's `scopes_supported`. URL is the
 * server's origin (default http://127.0.0.1:3000; PORT, HOST and .env are not read). The login is
 * NAME (default "dev-user"), so each client name is its own subject. The client registered for NAME
 * is kept in DIR/dev-as/token-clients.json (DIR: default $DATA_DIR, else "data") and reused.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { didYouMean } from "../src/config/diagnostics.js";
import {
  type AuthorizationServerMetadata,
  authorizationCodeFlow,
  type ClientCredentials,
  fetchAuthorizationServerMetadata,
  fetchProtectedResourceMetadata,
  HEADLESS_REDIRECT_URI,
  OAuthFlowError,
  registerHeadlessClient,
} from "../src/dev-as/headless-login.js";
import { DEVELOPMENT_SERVER_MARKER } from "../src/dev-as/provider-configuration.js";

const USAGE = 'usage: npm run token -- [--scope "docs.write memory.read"] [--client NAME] [--url URL] [--data-dir DIR]';

const DEFAULT_URL = "http://127.0.0.1:3000";

/**
 * Refuses a --scope the development server does not offer (its metadata's `scopes_supported`: the
 * scope catalogue and openid) before asking for it: it answers an unknown scope with a bare
 * `access_denied`, and drops it silently when it comes with known ones.
 */
function checkScopes(requested: string, supported: unknown): void {
  if (!Array.isArray(supported) || supported.length === 0) return;
  const known = supported.map(String);
  const problems = requested
    .split(/\s+/)
    .filter((scope) => scope !== "" && !known.includes(scope))
    .map((scope) => {
      if (scope.includes(",")) return `"${scope}" (separate scopes with spaces, not commas)`;
      const near = didYouMean(scope, known);
      return `"${scope}"${near ? ` (did you mean "${near}"?)` : ""}`;
    });
  if (problems.length)
    throw new OAuthFlowError(
      `the server does not offer the scope${problems.length > 1 ? "s" : ""} ${problems.join(", ")}; it offers: ${known.join(" ")}`,
    );
}

/** Clients registered by this script: issuer -> client name -> credentials. */
type ClientCache = Record<string, Record<string, ClientCredentials>>;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scope: { type: "string" },
      client: { type: "string", default: "dev-user" },
      url: { type: "string", default: DEFAULT_URL },
      "data-dir": { type: "string", default: process.env.DATA_DIR || "data" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void process.stderr.write(`${USAGE}\n`);
  const name = values.client;
  if (!name.trim()) throw new OAuthFlowError("--client must be a name (each name is its own user)");
  if (values.scope !== undefined && !values.scope.trim())
    throw new OAuthFlowError("--scope must name at least one scope (leave it out to ask for every scope offered)");
  const parsedUrl = URL.parse(values.url);
  if (parsedUrl && (parsedUrl.username || parsedUrl.password))
    throw new OAuthFlowError("--url must not hold a user name or password: the server's sign-in needs none");
  if (!/^https?:$/.test(parsedUrl?.protocol ?? ""))
    throw new OAuthFlowError(
      `--url must be the server's http(s) URL, e.g. ${DEFAULT_URL}, not ${JSON.stringify(values.url)}`,
    );

  const prm = await fetchProtectedResourceMetadata(values.url).catch((error: unknown) => {
    if (error instanceof OAuthFlowError && error.status === 404) {
      throw new OAuthFlowError(`${error.message}; toolgate publishes it when AUTH_MODE is oauth2 or optional`);
    }
    if (error instanceof OAuthFlowError && error.message.startsWith("cannot reach"))
      throw new OAuthFlowError(
        `${error.message}${values.url === DEFAULT_URL ? " If it listens on another port or host, pass --url (PORT, HOST and .env are not read)." : ""}`,
      );
    throw error;
  });
  const scope = values.scope ?? stringList(prm.scopes_supported);
  if (!scope) throw new OAuthFlowError(`--scope is required (the server lists no scopes_supported); ${USAGE}`);
  const issuer = prm.authorization_servers[0] as string;
  const as = await fetchAuthorizationServerMetadata(issuer);
  if (as[DEVELOPMENT_SERVER_MARKER] !== true) {
    throw new OAuthFlowError(
      `${issuer} is not toolgate's development authorization server; get a token from it instead`,
    );
  }
  if (values.scope !== undefined) checkScopes(values.scope, as.scopes_supported);

  const cacheFile = join(values["data-dir"], "dev-as", "token-clients.json");
  const cache = await readCache(cacheFile);
  const authorize = (client: ClientCredentials) =>
    authorizationCodeFlow(as, {
      client,
      redirectUri: HEADLESS_REDIRECT_URI,
      scope,
      resource: prm.resource,
      login: name,
    });

  // The development server keeps clients in memory: after its restart a cached client is unknown.
  const cached = cache[issuer]?.[name];
  let result = cached ? await authorize(cached).catch(unlessInvalidClient) : undefined;
  if (!result) {
    const client = await register(as, name);
    cache[issuer] = { ...cache[issuer], [name]: client };
    await writeCache(cacheFile, cache);
    result = await authorize(client);
  }

  const { tokens } = result;
  process.stderr.write(
    `token for ${name} at ${prm.resource}: scope "${tokens.scope ?? ""}", expires in ${tokens.expires_in ?? "?"} s\n`,
  );
  process.stdout.write(`${tokens.access_token}\n`);
}

function register(as: AuthorizationServerMetadata, name: string): Promise<ClientCredentials> {
  process.stderr.write(`registering a client for ${name} at ${as.issuer}\n`);
  return registerHeadlessClient(as, { name: `npm run token (${name})` });
}

function unlessInvalidClient(error: unknown): undefined {
  if (error instanceof OAuthFlowError && error.error === "invalid_client") return undefined;
  throw error;
}

function stringList(value: unknown): string | undefined {
  return Array.isArray(value) && value.length > 0 ? value.join(" ") : undefined;
}

async function readCache(file: string): Promise<ClientCache> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as ClientCache;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new OAuthFlowError(`cannot read ${file} (${(error as Error).message}); delete it to start over`);
  }
}

async function writeCache(file: string, cache: ClientCache): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(cache, null, 2)}\n`, { mode: 0o600 });
}

main().catch((error: unknown) => {
  // Expected failures (server down, bad arguments) are one line; anything else keeps its stack.
  const expected = error instanceof OAuthFlowError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  const message = expected ? (error as Error).message : String((error as Error)?.stack ?? error);
  process.stderr.write(`npm run token: ${message}\n`);
  process.exitCode = 1;
});
