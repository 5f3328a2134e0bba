/**
 * Completes the development authorization server's login and consent pages for an authorization
 * URL that an MCP client built, the way a browser does (src/dev-as/headless-login.ts
 * `DevLoginBrowser`: GET the URL, follow each 303 by hand, keep the provider's cookies, post each
 * page's form), and stops at the redirect back to the client's redirect_uri, whose query (`code`,
 * `state`, `iss`) is the callback the client needs.
 */
import { DevLoginBrowser } from "../../../src/dev-as/headless-login.js";

export interface DevLoginResult {
  /** The redirect to the client's redirect_uri, with `code`, `state` and RFC 9207 `iss`. */
  callback: URL;
  /** The `prompt` of each page that was posted, in order (e.g. ["login", "consent"]). */
  prompts: string[];
  /** The HTML of the consent page, when there was one. */
  consentPage?: string;
}

export async function completeDevLogin(
  authorizationUrl: URL,
  options: { redirectUri: string; login: string },
): Promise<DevLoginResult> {
  const prompts: string[] = [];
  let consentPage: string | undefined;
  const browser = new DevLoginBrowser(options.login, (prompt, html) => {
    prompts.push(prompt);
    if (prompt === "consent") consentPage = html;
  });
  const callback = await browser.run(authorizationUrl, options.redirectUri);
  return { callback, prompts, ...(consentPage !== undefined ? { consentPage } : {}) };
}
