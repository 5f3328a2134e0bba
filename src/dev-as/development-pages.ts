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
