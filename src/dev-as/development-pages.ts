import type Provider from "oidc-provider";
import type { ErrorOut, KoaContextWithOIDC } from "oidc-provider";

const BANNER =
  '<p style="background:#b00020;color:#fff;font:bold 14px sans-serif;padding:8px;text-align:center;margin:0 0 16px">' +
  "toolgate development authorization server &mdash; any login and password are accepted. " +
  "Not for production.</p>";

/**
 * Koa middleware for the provider: stamps the development banner on the devInteractions login and
 * consent pages (the provider renders them from fixed templates, so the banner is added after).
 */
export const markDevelopmentPages: Parameters<Provider["use"]>[0] = async (ctx, next) => {
  await next();
  const { oidc } = ctx as Partial<KoaContextWithOIDC>;
  if (oidc?.route === "interaction" && typeof ctx.body === "string") {
    // The templates import a Google web font (`@import url(https://fonts.googleapis.com/…)` in their
    // <style>; a <link> in older versions): drop it, so the pages load with no outside request.
    ctx.body = ctx.body
      .replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, "")
      .replace(/@import\s+url\(\s*['"]?https?:\/\/fonts\.googleapis\.com[^)]*\)\s*;?/g, "")
      .replace("<body>", `<body>${BANNER}`);
  }
};

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
