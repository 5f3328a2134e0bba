import type { IncomingHttpHeaders } from "node:http";
import { hostHeaderValidation, originValidation } from "@modelcontextprotocol/node";
import { validateHostHeader, validateOriginHeader } from "@modelcontextprotocol/server";
import type { RequestHandler } from "express";

/**
 * DNS-rebinding protection (Host) and browser-origin protection (Origin, when present), using the
 * SDK's validators so the rules match what its own express app would apply. Empty lists disable a check.
 */
export function hostAndOriginValidation(options: {
  allowedHosts: string[];
  allowedOrigins: string[];
  checkOrigin: boolean;
}): RequestHandler {
  const host = options.allowedHosts.length > 0 ? hostHeaderValidation(options.allowedHosts) : undefined;
  const origin = options.allowedOrigins.length > 0 ? originValidation(options.allowedOrigins) : undefined;
  return (req, res, next) => {
    if (host && !host(req, res)) return;
    if (options.checkOrigin && origin && req.headers.origin !== undefined && !origin(req, res)) return;
    next();
  };
}

/** The same two checks as a predicate on a plain Node request (the /mcp fast path of src/http/app.ts). */
export function hostAndOriginAllowed(
  headers: IncomingHttpHeaders,
  options: { allowedHosts: string[]; allowedOrigins: string[] },
): boolean {
  if (options.allowedHosts.length > 0 && !validateHostHeader(headers.host, options.allowedHosts).ok) return false;
  if (
    options.allowedOrigins.length > 0 &&
    headers.origin !== undefined &&
    !validateOriginHeader(headers.origin, options.allowedOrigins).ok
  )
    return false;
  return true;
}
