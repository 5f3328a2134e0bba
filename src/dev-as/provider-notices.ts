export interface NoticeLogger {
  debug(o: object, m?: string): void;
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

type ConsoleMethod = (...args: unknown[]) => void;

const NOTICE = /^oidc-provider (NOTICE|WARNING): /;
// On a terminal the provider colours its notices; the escape codes come off before matching.
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[\\d;]*m`, "g");
// Warnings about choices this server makes on purpose: Node 20 (printed on import; the provider
// works there, and toolgate supports it: at info its "Use Node.js v22.x LTS" read as if toolgate
// did not), the in-memory store (printed only with the provider's own adapter; toolgate gives it
// memory-adapter.ts) and the devInteractions pages. Logged at debug.
const EXPECTED = ["Unsupported runtime", "a quick start development-only"];

/**
 * Runs `fn` while oidc-provider's console notices (printed through console.info/console.warn on
 * import and while a Provider is constructed) go to `logger` instead; without a logger only the
 * warnings that matter reach the console. Anything else written to the console meanwhile passes
 * through untouched.
 */
export async function withProviderNotices<T>(logger: NoticeLogger | undefined, fn: () => Promise<T> | T): Promise<T> {
  const original = { info: console.info, warn: console.warn };
  console.info = routeNotices(logger, original.info);
  console.warn = routeNotices(logger, original.warn);
  try {
    return await fn();
  } finally {
    console.info = original.info;
    console.warn = original.warn;
  }
}

function routeNotices(logger: NoticeLogger | undefined, passThrough: ConsoleMethod): ConsoleMethod {
  return (...args) => {
    const text = typeof args[0] === "string" ? args[0].replace(ANSI_COLOUR, "") : "";
    const match = NOTICE.exec(text);
    if (!match) {
      passThrough(...args);
      return;
    }
    const message = text.slice(match[0].length);
    const expected = EXPECTED.some((prefix) => message.startsWith(prefix));
    const important = match[1] === "WARNING" && !expected;
    if (!logger) {
      if (important) passThrough(...args);
    } else if (important) {
      logger.warn({ oidcProvider: true }, message);
    } else if (expected) {
      logger.debug({ oidcProvider: true }, message);
    } else {
      logger.info({ oidcProvider: true }, message);
    }
  };
}
