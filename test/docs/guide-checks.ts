/**
 * Reads the runnable parts of a Markdown guide, and compares command output with the output the
 * guide shows. Conventions (docs/auth0-chatgpt.md, docs/claude.md):
 *
 * - every ```sh block is preceded by `<!-- check: NAME -->` (run by the test) or
 *   `<!-- no-check: REASON -->` (cannot run here: says why);
 * - after a checked command, the first ```http or ```json block before the next command is its
 *   expected output: an `http` block holds the status line, the headers that must be present with
 *   exactly that value, then body lines (JSON, `data: JSON`, `event: NAME`); a `json` block holds
 *   JSON the output must contain (objects: these keys; arrays: exactly these items); `…` inside a
 *   string or header value matches anything;
 * - `<!-- check-env: NAME=VALUE … -->` gives the server settings the guide is checked with;
 * - `<!-- check: NAME -->` may also stand before a table or a ```text block checked by a dedicated test.
 */
import { readFileSync } from "node:fs";

export interface Fence {
  lang: string;
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The `check` / `no-check` marker right before the fence, if any. */
  marker?: { kind: "check" | "no-check"; value: string };
}

export interface GuideCheck {
  name: string;
  command: string;
  line: number;
  expected?: Fence;
}

export interface ParsedGuide {
  file: string;
  text: string;
  lines: string[];
  env: Record<string, string>;
  fences: Fence[];
  checks: GuideCheck[];
  /** `check` markers by name: the line after the marker. */
  markers: Map<string, number>;
}

const MARKER = /^<!--\s*(check|no-check):\s*(.*?)\s*-->\s*$/;
const CHECK_ENV = /<!--\s*check-env:\s*(.*?)\s*-->/;

export function parseGuide(file: string): ParsedGuide {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const fences: Fence[] = [];
  const markers = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const marker = MARKER.exec(line);
    if (marker?.[1] === "check") {
      if (markers.has(marker[2] as string)) throw new Error(`${file}:${i + 1}: check "${marker[2]}" is named twice`);
      markers.set(marker[2] as string, i + 1);
    }
    const open = /^```(\S*)\s*$/.exec(line);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: unterminated code block`);
    let before = start - 1;
    while (before >= 0 && (lines[before] as string).trim() === "") before--;
    const found = before >= 0 ? MARKER.exec(lines[before] as string) : null;
    fences.push({
      lang: open[1] ?? "",
      text: body.join("\n"),
      line: start + 1,
      ...(found ? { marker: { kind: found[1] as "check" | "no-check", value: found[2] as string } } : {}),
    });
  }

  const checks: GuideCheck[] = [];
  fences.forEach((fence, index) => {
    if (fence.lang !== "sh" || fence.marker?.kind !== "check") return;
    let expected: Fence | undefined;
    for (const next of fences.slice(index + 1)) {
      if (next.lang === "sh" || next.marker) break;
      if (next.lang === "http" || next.lang === "json") {
        expected = next;
        break;
      }
    }
    checks.push({ name: fence.marker.value, command: fence.text, line: fence.line, ...(expected ? { expected } : {}) });
  });

  const env: Record<string, string> = {};
  const envMatch = CHECK_ENV.exec(text);
  for (const pair of (envMatch?.[1] ?? "").split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf("=");
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { file, text, lines, env, fences, checks, markers };
}

/** Replaces each `from` with its `to`, in order. */
export function substitute(text: string, pairs: readonly (readonly [string, string])[]): string {
  return pairs.reduce((out, [from, to]) => out.split(from).join(to), text);
}

export interface HttpOutput {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** The output of `curl -si`. */
export function parseCurlOutput(raw: string): HttpOutput {
  const split = /\r?\n\r?\n/.exec(raw);
  const head = split ? raw.slice(0, split.index) : raw;
  const body = split ? raw.slice(split.index + split[0].length) : "";
  const [statusLine = "", ...headerLines] = head.split(/\r?\n/);
  const status = /^HTTP\/\S+ (\d{3})/.exec(statusLine);
  if (!status) throw new Error(`not an HTTP response: ${JSON.stringify(raw.slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(status[1]), headers, body };
}

const ELLIPSIS = "…";

function textMatches(expected: string, actual: string): boolean {
  if (!expected.includes(ELLIPSIS)) return expected === actual;
  const pattern = expected
    .split(ELLIPSIS)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[\\s\\S]*");
  return new RegExp(`^${pattern}$`).test(actual);
}

/** Problems found comparing expected JSON (objects: a subset of keys) with actual JSON. */
export function jsonMismatches(expected: unknown, actual: unknown, path = "$"): string[] {
  if (typeof expected === "string")
    return typeof actual === "string" && textMatches(expected, actual)
      ? []
      : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
    return expected.flatMap((item, i) => jsonMismatches(item, actual[i], `${path}[${i}]`));
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual))
      return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) =>
      key in actual
        ? jsonMismatches(value, (actual as Record<string, unknown>)[key], `${path}.${key}`)
        : [`${path}.${key}: missing`],
    );
  }
  return Object.is(expected, actual) ? [] : [`${path}: expected ${String(expected)}, got ${JSON.stringify(actual)}`];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON: ${text.slice(0, 120)}`);
  }
}

/** Problems found comparing an `http` expected block with `curl -si` output. */
export function httpMismatches(expected: string, raw: string): string[] {
  const actual = parseCurlOutput(raw);
  const problems: string[] = [];
  const lines = expected.split("\n");
  const status = /^HTTP\/\S+ (\d{3})/.exec(lines[0] ?? "");
  if (!status) return [`the expected output does not start with a status line: ${lines[0]}`];
  if (actual.status !== Number(status[1])) problems.push(`status: expected ${status[1]}, got ${actual.status}`);
  let i = 1;
  for (; i < lines.length && (lines[i] as string).trim() !== ""; i++) {
    const line = lines[i] as string;
    if (line.trim() === ELLIPSIS) continue;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const got = actual.headers.get(name);
    if (got === undefined) problems.push(`header ${name}: missing`);
    else if (!textMatches(value, got)) problems.push(`header ${name}: expected ${value}\n  got ${got}`);
  }
  const actualLines = actual.body.split(/\r?\n/);
  for (const line of lines.slice(i + 1)) {
    if (line.trim() === "" || line.trim() === ELLIPSIS) continue;
    if (line.startsWith("event: ")) {
      if (!actualLines.includes(line)) problems.push(`body: no line "${line}"`);
    } else if (line.startsWith("data: ")) {
      const data = actualLines.find((l) => l.startsWith("data: "));
      if (data === undefined) problems.push("body: no data: line");
      else
        problems.push(
          ...jsonMismatches(parseJson(line.slice(6), "expected data"), parseJson(data.slice(6), "data"), "data"),
        );
    } else {
      problems.push(...jsonMismatches(parseJson(line, "expected body"), parseJson(actual.body, "body"), "body"));
    }
  }
  return problems;
}

/**
 * Environment variable names a guide mentions: in inline code (`NAME` with an underscore, or
 * `NAME=value`) and as `NAME=` assignments in code blocks.
 */
export function mentionedVariables(text: string): Set<string> {
  const names = new Set<string>();
  const prose = text.replace(/^```[\s\S]*?^```\s*$/gm, "");
  for (const m of prose.matchAll(/`([A-Z][A-Z0-9_]*)(=[^`]*)?`/g)) {
    const name = m[1] as string;
    if (m[2] !== undefined || /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(name)) names.add(name);
  }
  for (const block of text.matchAll(/^```(sh|dotenv)\s*\n([\s\S]*?)^```\s*$/gm))
    for (const m of (block[2] as string).matchAll(/(?:^|[\s;(])([A-Z][A-Z0-9_]*)=/gm)) names.add(m[1] as string);
  return names;
}
