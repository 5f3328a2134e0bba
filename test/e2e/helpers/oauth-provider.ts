/**
 * An `OAuthClientProvider` for end-to-end tests: everything a real MCP host persists (client
 * information, tokens, PKCE code verifier, `state`, the SDK's `discoveryState`) kept in memory, and
 * `redirectToAuthorization` recording the URL instead of opening a browser. The test then drives the
 * development login and consent pages with that URL (over HTTP, or in Chromium) and hands the
 * callback to `transport.finishAuth`.
 *
 * The same object serves the v2 client (`@modelcontextprotocol/client`) and the v1 client
 * (`@modelcontextprotocol/sdk`): v1 calls the same methods without the `ctx` argument.
 */
import { randomBytes } from "node:crypto";
import type {
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from "@modelcontextprotocol/client";

export interface TestOAuthProviderOptions {
  /** Where the authorization server sends the browser back; never loaded by the headless flow. */
  redirectUrl: string;
  clientName: string;
  /** An https URL: with it the v2 client uses a Client ID Metadata Document instead of registering. */
  clientMetadataUrl?: string;
  /**
   * `grant_types` to register. Left out, the v2 SDK fills in its default
   * `["authorization_code", "refresh_token"]` (SEP-2207).
   */
  grantTypes?: string[];
}

export class TestOAuthProvider implements OAuthClientProvider {
  /** Every authorization URL the SDK asked us to open, oldest first. */
  readonly authorizationUrls: URL[] = [];
  /** Registrations the SDK saved (DCR) or made up from the CIMD URL. */
  readonly savedClients: StoredOAuthClientInformation[] = [];
  readonly savedTokens: StoredOAuthTokens[] = [];
  #client: StoredOAuthClientInformation | undefined;
  #tokens: StoredOAuthTokens | undefined;
  #codeVerifier: string | undefined;
  #state: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  readonly clientMetadataUrl?: string;

  constructor(readonly options: TestOAuthProviderOptions) {
    if (options.clientMetadataUrl) this.clientMetadataUrl = options.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.options.redirectUrl;
  }

  /** What a host registers: a public client (PKCE, no secret), as MCP clients are. */
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.options.clientName,
      redirect_uris: [this.options.redirectUrl],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      ...(this.options.grantTypes ? { grant_types: this.options.grantTypes } : {}),
    };
  }

  state(): string {
    this.#state = randomBytes(16).toString("base64url");
    return this.#state;
  }

  /** The `state` sent with the latest authorization request. */
  get lastState(): string | undefined {
    return this.#state;
  }

  /** The latest authorization URL; throws when the SDK did not ask for one. */
  get pendingAuthorization(): URL {
    const url = this.authorizationUrls.at(-1);
    if (!url) throw new Error("the client never asked to open an authorization URL");
    return url;
  }

  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.#client;
  }

  saveClientInformation(info: StoredOAuthClientInformation): void {
    this.#client = info;
    this.savedClients.push(info);
  }

  tokens(): StoredOAuthTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.#tokens = tokens;
    this.savedTokens.push(tokens);
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrls.push(url);
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#codeVerifier) throw new Error("no PKCE code verifier saved");
    return this.#codeVerifier;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "client") this.#client = undefined;
    if (scope === "all" || scope === "tokens") this.#tokens = undefined;
    if (scope === "all" || scope === "verifier") this.#codeVerifier = undefined;
    if (scope === "all" || scope === "discovery") this.#discovery = undefined;
  }
}
