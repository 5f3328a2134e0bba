/**
 * A `fetch` that records what an MCP client sends and gets back, passed to the client transport
 * (which uses it for the MCP requests and for every OAuth request: metadata, registration, token).
 * The tests read the OAuth dance from it: the 401, the metadata fetched, the registration, the code
 * exchange, the 403.
 */
export interface Exchange {
  method: string;
  url: URL;
  status: number;
  /** Request headers of interest (lower-case names). */
  request: { authorization?: string; protocolVersion?: string; mcpMethod?: string; contentType?: string };
  /** The request body when it was a string or form (token and registration requests, JSON-RPC). */
  body?: string;
  wwwAuthenticate?: string;
}

export class Recorder {
  readonly exchanges: Exchange[] = [];

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const response = await fetch(input, init);
    const exchange: Exchange = {
      method: init?.method ?? (input instanceof Request ? input.method : "GET"),
      url,
      status: response.status,
      request: {},
    };
    const pick = (name: string) => headers.get(name) ?? undefined;
    const authorization = pick("authorization");
    if (authorization) exchange.request.authorization = authorization;
    const protocolVersion = pick("mcp-protocol-version");
    if (protocolVersion) exchange.request.protocolVersion = protocolVersion;
    const mcpMethod = pick("mcp-method");
    if (mcpMethod) exchange.request.mcpMethod = mcpMethod;
    const contentType = pick("content-type");
    if (contentType) exchange.request.contentType = contentType;
    if (typeof init?.body === "string" || init?.body instanceof URLSearchParams) exchange.body = String(init.body);
    const challenge = response.headers.get("www-authenticate");
    if (challenge) exchange.wwwAuthenticate = challenge;
    this.exchanges.push(exchange);
    return response;
  };

  /** Exchanges recorded since `mark()` returned `from`. */
  since(from: number): Exchange[] {
    return this.exchanges.slice(from);
  }

  mark(): number {
    return this.exchanges.length;
  }

  /** Requests to the MCP endpoint (POST/GET/DELETE /mcp). */
  mcp(exchanges: Exchange[] = this.exchanges): Exchange[] {
    return exchanges.filter((e) => e.url.pathname === "/mcp");
  }
}
