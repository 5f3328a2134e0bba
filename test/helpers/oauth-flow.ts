/**
 * A headless OAuth client for tests against toolgate's development authorization server: registers
 * a client (or uses the one given) and runs authorization code + PKCE S256 through the development
 * login and consent pages over plain HTTP. The HTTP work lives in src/dev-as/headless-login.ts,
 * shared with `npm run token`.
 */
import {
  type AuthorizationServerMetadata,
  authorizationCodeFlow,
  type ClientCredentials,
  fetchAuthorizationServerMetadata,
  HEADLESS_REDIRECT_URI,
  registerHeadlessClient,
  type TokenResponse,
} from "../../src/dev-as/headless-login.js";

export * from "../../src/dev-as/headless-login.js";

export interface OAuthFlowOptions {
  /** The authorization server's issuer (the toolgate server's origin for the development one). */
  issuer: string;
  scope: string;
  /** Development login name, which becomes `sub`. Default "dev-user". */
  login?: string;
  /** RFC 8707 resource; left out of the requests when undefined. */
  resource?: string;
  /** A client to reuse; a new public client is registered when absent. */
  client?: ClientCredentials;
}

export interface OAuthFlowResult {
  accessToken: string;
  tokens: TokenResponse;
  /** The redirect back to the client: `code`, `state`, `iss`. */
  callback: URL;
  client: ClientCredentials;
  metadata: AuthorizationServerMetadata;
}

export async function runOAuthFlow(options: OAuthFlowOptions): Promise<OAuthFlowResult> {
  const metadata = await fetchAuthorizationServerMetadata(options.issuer);
  const client = options.client ?? (await registerHeadlessClient(metadata, { name: "toolgate test client" }));
  const { tokens, callback } = await authorizationCodeFlow(metadata, {
    client,
    redirectUri: HEADLESS_REDIRECT_URI,
    scope: options.scope,
    resource: options.resource,
    login: options.login ?? "dev-user",
  });
  return { accessToken: tokens.access_token, tokens, callback, client, metadata };
}
