import { hostHeaderValidation, originValidation } from "@modelcontextprotocol/node";
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
