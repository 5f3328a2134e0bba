import { readFileSync } from "node:fs";
import { authSchema, validateAuthFile } from "../../generated/auth-schema.js";
import { type AuthConfig, resolveAuth } from "./auth-resolve.js";
import { ConfigError } from "./diagnostics.js";
import { literalSecrets } from "./literal-secrets.js";
import { type SchemaError, schemaErrorsToDiagnostics } from "./schema-diagnostics.js";
import { parseYamlSource } from "./yaml-source.js";

export type { ApiKeyConfig, AuthConfig, AuthMode, ChallengeDelivery, IssuerConfig } from "./auth-resolve.js";
export { sha256 } from "./auth-resolve.js";

export interface AuthConfigContext {
  env: NodeJS.ProcessEnv;
  /** Used for the default `resource`. */
  listen: { host: string; port: number };
  production: boolean;
}

/** Reads, substitutes, validates and resolves auth.yaml. Throws ConfigError listing every problem. */
export function loadAuthConfig(
  file: string,
  context: AuthConfigContext,
  text = readFileSync(file, "utf8"),
): AuthConfig {
  const source = parseYamlSource(file, text, { env: context.env, unsetSeverity: "error", schema: authSchema });
  if (source.diagnostics.length > 0 || source.value === undefined)
    throw new ConfigError(source.diagnostics, `${file} is invalid`);
  if (!validateAuthFile(source.value)) {
    throw new ConfigError(
      schemaErrorsToDiagnostics(source, (validateAuthFile as { errors?: SchemaError[] | null }).errors ?? []),
      `${file} is invalid`,
    );
  }
  const { config, diagnostics } = resolveAuth(source, context);
  // A secret from a placeholder's default is live in production without anyone having set it.
  const secrets = literalSecrets(source, "warning", context.production ? "error" : "warning");
  diagnostics.push(...secrets.filter((d) => d.severity === "error"));
  if (diagnostics.some((d) => d.severity === "error")) throw new ConfigError(diagnostics, `${file} cannot work`);
  return { ...config, warnings: secrets };
}
