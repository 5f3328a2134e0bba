/**
 * A problem found in a user's file, with a position in that file as the user wrote it.
 * Printed as `file:line:col: severity CODE: message` (the shape compilers use, so editors link it).
 */
import type { DiagnosticCode } from "./diagnostic-codes.js";

export type Severity = "error" | "warning";

export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  severity: Severity;
  /** Explained in docs/diagnostics.md (src/config/diagnostic-codes.ts). */
  code: DiagnosticCode;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity} ${d.code}: ${d.message}`;
}

/** A GitHub Actions workflow command, so the problem shows on the pull request's diff. */
export function formatGithubAnnotation(d: Diagnostic): string {
  const encode = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const prop = (s: string) => encode(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
  return `::${d.severity} file=${prop(d.file)},line=${d.line},col=${d.col},title=${prop(d.code)}::${encode(d.message)}`;
}

/** Sorted by file, position, then code, so output is stable whatever order the checks ran in. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return [...list]
    .sort(
      (a, b) =>
        a.file.localeCompare(b.file) ||
        a.line - b.line ||
        a.col - b.col ||
        a.code.localeCompare(b.code) ||
        a.message.localeCompare(b.message),
    )
    .filter((d) => {
      const key = formatDiagnostic(d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

export const hasErrors = (list: readonly Diagnostic[]): boolean => list.some((d) => d.severity === "error");

/** Thrown at startup when a configuration file has errors; the message lists every diagnostic. */
export class ConfigError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], summary = "configuration is invalid") {
    const sorted = sortDiagnostics(diagnostics);
    super(`${summary}:\n${sorted.map(formatDiagnostic).join("\n")}`);
    this.name = "ConfigError";
    this.diagnostics = sorted;
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

/**
 * The closest candidate within a distance proportional to the word's length, if any. Among equally
 * close candidates the one sharing the longest prefix with the word wins (so `oauth` suggests
 * `oauth2`, not `noauth`: a typo rarely hits the first letters), then the first one listed.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  let bestPrefix = -1;
  for (const c of candidates) {
    const candidate = c.toLowerCase();
    const d = editDistance(lower, candidate);
    if (d > bestDistance || (d === bestDistance && best === undefined)) continue;
    const prefix = commonPrefixLength(lower, candidate);
    if (d < bestDistance || prefix > bestPrefix) {
      best = c;
      bestDistance = d;
      bestPrefix = prefix;
    }
  }
  return best;
}

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
