/**
 * The client's address as TRUST_PROXY reads it (Express's `trust proxy`, with which `req.ip` agrees):
 * the peer's address, or behind trusted proxies the address they name in X-Forwarded-For. For the
 * log lines an operator traces a client by (the audit line, refused credentials); computed only when
 * such a line is written.
 */
import type { IncomingMessage } from "node:http";
import proxyaddr from "proxy-addr";

export type ClientAddress = (req: IncomingMessage) => string | undefined;

export function clientAddressOf(trustProxy: boolean | number | string): ClientAddress {
  if (trustProxy === false || trustProxy === 0) return (req) => req.socket.remoteAddress;
  const trust = compileTrust(trustProxy);
  return (req) => {
    try {
      return proxyaddr(req, trust);
    } catch {
      return req.socket.remoteAddress; // a socket already gone: its address is what is known
    }
  };
}

/** As Express compiles `trust proxy` (express/lib/utils.js compileTrust). */
function compileTrust(value: true | number | string): (address: string, hop: number) => boolean {
  if (value === true) return () => true;
  if (typeof value === "number") return (_address, hop) => hop < value;
  return proxyaddr.compile(value.split(",").map((part) => part.trim()));
}
