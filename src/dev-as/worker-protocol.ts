/** Messages between the development authorization server's worker and its host. */
export type WorkerMessage =
  | { type: "ready"; port: number; issuer: string; jwksUri: string; authorizationEndpoint: string }
  | { type: "failed"; message: string }
  | { type: "log"; level: "info" | "warn"; fields: object; message?: string };

/** Set by the worker on a 404 for a path no provider route claims: the host passes the request on. */
export const UNCLAIMED_HEADER = "x-toolgate-dev-as-unclaimed";
