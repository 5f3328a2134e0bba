import type Provider from "oidc-provider";
import type { ErrorOut, KoaContextWithOIDC } from "oidc-provider";

const BANNER =
  '<p style="background:#b00020;color:#fff;font:bold 14px sans-serif;padding:8px;text-align:center;margin:0 0 16px">' +
  "toolgate development authorization server &mdash; any login and password are accepted. " +
  "Not for production.</p>";

/**
 * The Google web font the devInteractions layout imports, exactly as its `<style>` has it
 * (oidc-provider 9, lib/views/layout.js). Removed so the pages load with no outside request; the
 * development-page test fails if a new version changes the line.
 */
const WEB_FONT_IMPORT = "@import url(https://fonts.googleapis.com/css?family=Roboto:400,100);";

/**
 * Koa middleware for the provider: stamps the development banner on the devInteractions login and
 * consent pages (the provider renders them from fixed templates, so the banner is added after).
 * Only the template's own markup is touched: the page also carries request parameters (login_hint,
 * client name…), escaped but free to contain any text, so nothing is searched for across the page.
 * The first `<style>` is the template's (in its <head>, before any parameter; escaped text has no
 * `<`), and so is the first `<body>`.
 */
export const markDevelopmentPages: Parameters<Provider["use"]>[0] = async (ctx, next) => {
  await next();
  const { oidc } = ctx as Partial<KoaContextWithOIDC>;
  if (oidc?.route === "interaction" && typeof ctx.body === "string") {
    ctx.body = withoutWebFont(ctx.body).replace("<body>", `<body>${BANNER}`);
  }
  forbidFraming(ctx);
};

/**
 * No page of this server may be framed. Its cookies are SameSite=Lax and a page on another port of
 * 127.0.0.1 is the same site, so such a page could frame the consent page and have the developer
 * click "Continue" for its client (a code sent to its redirect URI). A policy the provider set (its
 * form_post page's script nonce) is kept, with frame-ancestors added.
 */
function forbidFraming(ctx: Parameters<Parameters<Provider["use"]>[0]>[0]): void {
  ctx.set("X-Frame-Options", "DENY");
  const policy = ctx.response.get("Content-Security-Policy");
  if (!policy) ctx.set("Content-Security-Policy", "frame-ancestors 'none'");
  else if (!/(^|;)\s*frame-ancestors\b/i.test(policy))
    ctx.set("Content-Security-Policy", `${policy}; frame-ancestors 'none'`);
}

function withoutWebFont(html: string): string {
  const start = html.indexOf("<style>");
  const end = start === -1 ? -1 : html.indexOf("</style>", start);
  if (end === -1) return html;
  return html.slice(0, start) + html.slice(start, end).replace(WEB_FONT_IMPORT, "") + html.slice(end);
}

/** The longest login name: it becomes `sub`, at most 255 ASCII characters in OpenID Connect Core §2. */
export const MAX_LOGIN_BYTES = 255;

/** Why a development login name is refused, or undefined when it is fine. */
export function loginNameProblem(login: unknown): string | undefined {
  if (typeof login !== "string" || login.trim() === "") return "enter a login name: it cannot be empty";
  if (Buffer.byteLength(login) > MAX_LOGIN_BYTES)
    return `the login name is too long: at most ${MAX_LOGIN_BYTES} bytes (it becomes the token's sub)`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  if (/[\u0000-\u001f\u007f]/.test(login)) return "the login name cannot contain control characters";
  return undefined;
}

/**
 * The devInteractions login form hands whatever was typed to `interactionFinished` as the account
 * id, the provider only checks it later, when the authorization resumes, and an empty one then
 * failed as a server_error (a TypeError with its stack in the log). Checked here instead, when the
 * form is submitted: a refused name gets the provider's error page (or JSON), 400 invalid_request.
 * devInteractions is the only caller of interactionResult (through interactionFinished).
 */
export function validateDevelopmentLogins(provider: Provider, invalidRequest: (description: string) => Error): void {
  const interactionResult = provider.interactionResult.bind(provider);
  provider.interactionResult = async (req, res, result, options) => {
    const problem = result.login ? loginNameProblem(result.login.accountId) : undefined;
    if (problem) throw invalidRequest(problem);
    return interactionResult(req, res, result, options);
  };
}

/** The provider's `renderError`: its default page, minus the remote web font, plus the banner. */
export function renderError(ctx: KoaContextWithOIDC, out: ErrorOut): void {
  const rows = Object.entries(out).map(
    ([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(String(value))}</p>`,
  );
  ctx.type = "html";
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Authorization error</title></head><body>${BANNER}<h1>Authorization error</h1>${rows.join("")}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** oidc-provider's registration endpoint (its default route). */
const REGISTRATION = "/reg";

/**
 * CORS on dynamic client registration. oidc-provider answers cross-origin requests on its other
 * endpoints (`clientBasedCORS`) but not on registration: a browser-based client registering itself
 * (the MCP Inspector) got a 404 to its preflight and could not read the 201. Any origin, as for the
 * others: this server is for development only.
 */
export const registrationCors: Parameters<Provider["use"]>[0] = async (ctx, next) => {
  const origin = ctx.get("origin");
  if (!origin || (ctx.path !== REGISTRATION && !ctx.path.startsWith(`${REGISTRATION}/`))) return next();
  ctx.set("Access-Control-Allow-Origin", origin);
  ctx.vary("Origin");
  if (ctx.method === "OPTIONS") {
    ctx.set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
    ctx.set("Access-Control-Allow-Headers", ctx.get("access-control-request-headers") || "Content-Type, Authorization");
    ctx.set("Access-Control-Max-Age", "600");
    ctx.status = 204;
    return;
  }
  await next();
};
