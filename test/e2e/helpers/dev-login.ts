/**
 * Completes the development authorization server's login and consent pages for an authorization
 * URL that an MCP client built, the way a browser does: GET the URL, follow each 303 by hand, keep
 * the provider's cookies, post each page's form (typing a login name into the sign-in form), and
 * stop at the redirect back to the client's redirect_uri, whose query (`code`, `state`, `iss`) is
 * the callback the client needs.
 *
 * src/dev-as/headless-login.ts has the same machinery (`DevLoginBrowser`), but only behind
 * `authorizeThroughDevLogin`, which builds its own authorization URL and PKCE pair; an SDK client
 * builds both itself, so this file repeats the browser part.
 */
import { OAuthFlowError } from "../../../src/dev-as/headless-login.js";

export interface DevLoginResult {
  /** The redirect to the client's redirect_uri, with `code`, `state` and RFC 9207 `iss`. */
  callback: URL;
  /** The `prompt` of each page that was posted, in order (e.g. ["login", "consent"]). */
  prompts: string[];
  /** The HTML of the consent page, when there was one. */
  consentPage?: string;
}

const MAX_STEPS = 12;

export async function completeDevLogin(
  authorizationUrl: URL,
  options: { redirectUri: string; login: string },
): Promise<DevLoginResult> {
  const cookies = new Map<string, string>();
  const prompts: string[] = [];
  let consentPage: string | undefined;

  const request = async (url: URL, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (cookies.size > 0) headers.set("cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(url, { ...init, headers, redirect: "manual", signal: AbortSignal.timeout(10_000) });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attribute = (key: string) =>
        attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const expires = attribute("expires");
      const maxAge = attribute("max-age");
      // The provider clears a cookie by sending it empty with an expiry in the past.
      const expired =
        (expires !== undefined && Date.parse(expires) <= Date.now()) || (maxAge !== undefined && Number(maxAge) <= 0);
      if (value === "" || expired) cookies.delete(name);
      else cookies.set(name, value);
    }
    return response;
  };

  const target = new URL(options.redirectUri);
  let at = authorizationUrl;
  let response = await request(at, { method: "GET" });
  for (let step = 0; step < MAX_STEPS; step++) {
    const location = response.headers.get("location");
    if (location && response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      at = new URL(location, at);
      if (at.origin === target.origin && at.pathname === target.pathname) {
        const result: DevLoginResult = { callback: at, prompts };
        if (consentPage !== undefined) result.consentPage = consentPage;
        return result;
      }
      response = await request(at, { method: "GET" });
      continue;
    }
    const page = await response.text();
    const form = response.status === 200 ? firstForm(page, at) : undefined;
    if (!form) {
      const error = /<strong>error<\/strong>: ([^<]+)/.exec(page)?.[1];
      const description = /<strong>error_description<\/strong>: ([^<]+)/.exec(page)?.[1];
      throw new OAuthFlowError(
        `authorization failed at ${at.pathname}: ${error ?? `HTTP ${response.status}`}${description ? ` (${description})` : ""}`,
        { ...(error ? { error } : {}), status: response.status },
      );
    }
    const prompt = form.fields.get("prompt") ?? "";
    prompts.push(prompt);
    if (prompt === "login") {
      form.fields.set("login", options.login);
      form.fields.set("password", "development");
    }
    if (prompt === "consent") consentPage = page;
    at = form.action;
    response = await request(at, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.fields,
    });
  }
  throw new OAuthFlowError(`authorization did not return to ${options.redirectUri} within ${MAX_STEPS} steps`);
}

/** The first form of a page: its action and hidden fields. */
function firstForm(html: string, base: URL): { action: URL; fields: URLSearchParams } | undefined {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields = new URLSearchParams();
  for (const input of (form[2] ?? "").matchAll(/<input\b[^>]*>/gi)) {
    const attribute = (name: string) => new RegExp(`\\b${name}="([^"]*)"`, "i").exec(input[0])?.[1];
    const name = attribute("name");
    if (attribute("type") === "hidden" && name) fields.set(decode(name), decode(attribute("value") ?? ""));
  }
  return { action: new URL(decode(form[1] ?? ""), base), fields };
}

function decode(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
