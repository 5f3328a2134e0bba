import {
  type Alias,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  parseDocument,
  type Scalar,
  visit,
  type YAMLMap,
} from "yaml";
import type { Diagnostic, Severity } from "./diagnostics.js";
import { acceptsTypeAt } from "./schema-types.js";

/**
 * A YAML file parsed with positions, so that any later check can point into the file as the user
 * wrote it: `locate(["tools", "docs.create", "input"])` gives its line and column.
 */
export interface YamlSource {
  file: string;
  /** The data, or undefined when the file could not be parsed. */
  value: unknown;
  diagnostics: Diagnostic[];
  /** Line/col of the node at `path` (or of its key with `{key: true}`), or of the deepest existing ancestor. */
  locate(path: readonly (string | number)[], options?: { key?: boolean }): { line: number; col: number };
  /** Whether the value at `path` was written with a `${VAR}` placeholder (false without substitution). */
  fromPlaceholder(path: readonly (string | number)[]): boolean;
  /**
   * Whether the value at `path` came from the default of a placeholder (`${VAR:-default}` with VAR
   * unset), not from the environment: a default is written in the file.
   */
  fromDefault(path: readonly (string | number)[]): boolean;
  /**
   * Whether the value at `path`, or a value inside it, was written with a `${VAR}` placeholder,
   * whatever it came out as: the variable's value, the default, or nothing (then it was dropped).
   * What depends on no placeholder is the same in every environment. False without substitution.
   */
  fromEnvironment(path: readonly (string | number)[]): boolean;
  /**
   * The placeholder written at `path` that came out empty and was dropped, as if not written: where
   * it is, and whether its variable is unset without a default (ENV002) rather than empty on purpose
   * (`${VAR:-}`). Undefined when none was.
   */
  droppedPlaceholder(path: readonly (string | number)[]): DroppedPlaceholder | undefined;
}

export interface DroppedPlaceholder {
  line: number;
  col: number;
  /** ENV002 was reported for it: a `${VAR}` (or a default's `${VAR}`) whose variable is unset. */
  unset: boolean;
}

export interface EnvSubstitution {
  env: Readonly<Record<string, string | undefined>>;
  /** Severity of a `${VAR}` whose variable is unset and has no default. */
  unsetSeverity: Severity;
  /**
   * The file's JSON Schema. A value made only of placeholders becomes a boolean, number or null only
   * where the schema accepts one; everywhere else (and without a schema, only booleans, numbers and
   * null are read at all) it stays exactly the text substituted.
   */
  schema?: unknown;
}

/** Syntax errors (YAML001) printed per file; the rest are counted in one more line. */
export const MAX_SYNTAX_ERRORS = 5;

/**
 * How many nodes aliases may add to a file, all aliases together (each alias counts the size of
 * what it stands for, nested aliases included). Far above any real tools.yaml or auth.yaml, far
 * below what a "billion laughs" file expands to.
 */
export const MAX_ALIAS_EXPANSION = 100_000;

/**
 * Parses YAML text. Syntax errors and duplicate keys become diagnostics (YAML001, YAML002) and make
 * `value` undefined: `toJS()` would otherwise silently keep the last duplicate. Keys are compared as
 * the property names they become (`1:` and `"1":` are duplicates).
 * With `substitute`, `${VAR}` / `${VAR:-default}` placeholders in values are replaced first
 * (ENV001 malformed, ENV002 unset); a plain scalar made only of placeholders whose text reads as a
 * YAML boolean, number or null becomes one where the schema accepts that type, so `${FLAG:-false}`
 * is a boolean; any other substituted text stays the string it is (never re-read as YAML: a secret
 * like `!x`, `'x'`, `x #y` or `0x8f…` is taken exactly as set). A scalar made only of placeholders
 * (quoted or not) that comes out empty is dropped, as if unset.
 */
export function parseYamlSource(file: string, text: string, substitute?: EnvSubstitution): YamlSource {
  let doc: Document | undefined = parse(text);
  const at = positionsOf(text);
  const diagnostics: Diagnostic[] = [];
  const syntaxErrors: Diagnostic[] = [];
  for (const { key, twin } of duplicateKeys(doc, text)) {
    const offset = key.range![0];
    const hint = twin
      ? ` (the key ${text.slice(twin.range![0], twin.range![1])} at ${formatAt(at(twin.range![0]))} names the same property)`
      : "";
    diagnostics.push({
      file,
      ...at(offset),
      severity: "error",
      code: "YAML002",
      message: `duplicate key: ${duplicateKeyName(text, offset) ?? "Map keys must be unique"}${hint}`,
    });
  }
  for (const error of doc.errors)
    syntaxErrors.push({
      file,
      ...at(error.pos[0]),
      severity: "error",
      code: "YAML001",
      message: error.code === "MULTIPLE_DOCS" ? multipleDocuments(text, error.pos[0], at) : firstLine(error.message),
    });
  diagnostics.push(...capSyntaxErrors(syntaxErrors));
  const substituted = new Set<Scalar>();
  const defaulted = new Set<Scalar>();
  const dropped: Dropped[] = [];
  if (diagnostics.length === 0 && substitute)
    diagnostics.push(...substituteEnv(doc, file, text, at, substitute, { substituted, defaulted, dropped }));
  if (!diagnostics.some((d) => d.severity === "error")) diagnostics.push(...aliasDiagnostics(doc, file, at));
  if (!diagnostics.some((d) => d.severity === "error")) diagnostics.push(...mergeDiagnostics(doc, file, at));
  const failed = diagnostics.some((d) => d.severity === "error");
  // aliasDiagnostics bounded the expansion (and ruled out cycles), so yaml's own alias counter,
  // a coarser heuristic that rejects legitimate files, is off.
  const value = failed ? undefined : doc.toJS({ maxAliasCount: -1 });
  // Without substitution nothing but `locate` needs the Document again, and only for a diagnostic:
  // it is let go here and parsed again from the text if a position is asked for (its nodes took
  // 548 MiB of heap for the bench's 10,000-tool tools.yaml, kept through every later stage).
  // With substitution the placeholders' scalars are known by identity, so the Document stays.
  if (!substitute) doc = undefined;
  const document = () => {
    doc ??= parse(text);
    return doc;
  };
  let environmentPaths: string[][] | undefined;
  return {
    file,
    value,
    diagnostics,
    locate: (path, options) => locateNode(document(), path, options?.key ?? false, at),
    fromPlaceholder: (path) => scalarIn(substituted, walk(document(), path)),
    fromDefault: (path) => scalarIn(defaulted, walk(document(), path)),
    fromEnvironment: (path) => {
      environmentPaths ??= [...keptPaths(document(), substituted), ...dropped.map((d) => d.path)];
      const wanted = path.map(String);
      // A placeholder inside the value at `path`, or the value of a placeholder `path` lies in.
      return environmentPaths.some((p) => startsWith(p, wanted) || startsWith(wanted, p));
    },
    droppedPlaceholder: (path) => {
      const wanted = path.map(String);
      const found = dropped.find((d) => d.exact && d.path.length === wanted.length && startsWith(d.path, wanted));
      return found && { ...at(found.offset), unset: found.unset };
    },
  };
}

const startsWith = (path: readonly string[], prefix: readonly string[]): boolean =>
  prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);

/**
 * The data paths of the substituted scalars still in the document: where the file writes them, and
 * wherever an alias or a merge key repeats them (the data holds them there too).
 */
function keptPaths(doc: Document, substituted: ReadonlySet<Scalar>): string[][] {
  return dataPaths(doc, substituted).map((found) => found.path);
}

/**
 * Every data path at which one of `scalars` appears: where the file writes it, and wherever an alias
 * or a merge key repeats it; `inList` when it is an item of a list there.
 */
function dataPaths(doc: Document, scalars: ReadonlySet<Scalar>): { path: string[]; scalar: Scalar; inList: boolean }[] {
  const paths: { path: string[]; scalar: Scalar; inList: boolean }[] = [];
  if (scalars.size === 0) return paths;
  // The nodes of the file and the expansion aliasDiagnostics allows: more means a cycle or a
  // "billion laughs" file, which YAML001 reported.
  let budget = MAX_ALIAS_EXPANSION;
  visit(doc, {
    Node() {
      budget++;
    },
  });
  const open = new Set<unknown>();
  const walkData = (node: unknown, path: string[], inList: boolean) => {
    const value = resolved(doc, node);
    if (--budget < 0 || open.has(value)) return; // a cycle or more than allowed: YAML001 already
    if (isScalar(value)) {
      if (scalars.has(value)) paths.push({ path, scalar: value, inList });
      return;
    }
    open.add(value);
    if (isSeq(value))
      value.items.forEach((item, i) => {
        walkData(item, [...path, String(i)], true);
      });
    else if (isMap(value)) for (const [name, item] of dataEntries(doc, value)) walkData(item, [...path, name], false);
    open.delete(value);
  };
  walkData(doc.contents, [], false);
  return paths;
}

/** A map's entries as `toJS()` gives them: its own keys, then those its merge keys bring in that it lacks. */
function dataEntries(doc: Document, map: YAMLMap, seen = new Set<unknown>()): Map<string, unknown> {
  const entries = new Map<string, unknown>();
  if (seen.has(map)) return entries;
  seen.add(map);
  for (const pair of map.items) {
    const name = jsKeyName(pair.key);
    if (name !== undefined && !isMergeKey(pair.key)) entries.set(name, pair.value);
  }
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) continue;
    for (const source of mergeSources(doc, pair.value) ?? [])
      for (const [name, value] of dataEntries(doc, source.map, seen)) if (!entries.has(name)) entries.set(name, value);
  }
  return entries;
}

/**
 * YAML001 for a second document: yaml's own message names its API. A file holds one document;
 * `---` inside it (a separator pasted in, two files joined) starts another.
 */
function multipleDocuments(
  text: string,
  offset: number,
  at: (offset: number) => { line: number; col: number },
): string {
  const { line } = at(offset);
  return text.startsWith("---", offset)
    ? `a single YAML document is expected; remove the "---" on line ${line} and what follows, or merge the documents`
    : `a single YAML document is expected, but another starts on line ${line}; remove it and what follows, or merge the documents`;
}

/**
 * Duplicate keys are found by one pass of our own (duplicateKeys): yaml's check compares each key
 * with every earlier key of its map, quadratic in a map's size (the bench's 10,000-tool project:
 * generate 67.2 s with it, 61.0 s without — bench/README.md). Merge keys (`<<: *paging`, YAML 1.1,
 * which yaml reads in 1.2 documents with `merge`) bring in the keys of the maps they name that the
 * map does not set itself: the key is then no property of its own (mergeDiagnostics, `child`).
 */
const parse = (text: string) =>
  parseDocument(text, { uniqueKeys: false, prettyErrors: false, strict: true, merge: true });

/** A `<<` merge key (plain, not quoted: `"<<"` is an ordinary key); yaml gives it a symbol as value. */
const isMergeKey = (key: unknown): boolean => isScalar(key) && typeof key.value === "symbol";

/** A node, or what an alias stands for (undefined for an alias without its anchor). */
function resolved(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/**
 * The maps a merge key's value brings in, first first: a map, an alias of one, or a list of them (or
 * an alias of such a list).
 * Undefined when it is anything else (mergeDiagnostics reports it).
 */
function mergeSources(doc: Document, value: unknown): { node: unknown; map: YAMLMap }[] | undefined {
  // An alias of a list of maps merges as the list itself does (yaml resolves it first); what it
  // brings in is located at the alias.
  const target = resolved(doc, value);
  const items = isSeq(target) ? target.items : [value];
  const sources: { node: unknown; map: YAMLMap }[] = [];
  for (const item of items) {
    const map = resolved(doc, item);
    if (!isMap(map)) return undefined;
    sources.push({ node: target === value || !isSeq(target) ? item : value, map });
  }
  return sources;
}

/**
 * YAML001 at a merge key whose value is not a map, an alias of a map or a list of them (yaml's toJS
 * would throw "Merge sources must be maps or map aliases").
 */
function mergeDiagnostics(
  doc: Document,
  file: string,
  at: (offset: number) => { line: number; col: number },
): Diagnostic[] {
  const out: Diagnostic[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (!isMergeKey(pair.key) || mergeSources(doc, pair.value) !== undefined) return;
      const node = (pair.value ?? pair.key) as Node;
      out.push({
        file,
        ...at(node.range?.[0] ?? 0),
        severity: "error",
        code: "YAML001",
        message:
          "a merge key (<<) takes a map, an alias of a map (<<: *name) or a list of them, whose keys the map takes unless it sets them itself",
      });
    },
  });
  return out;
}

/**
 * Every map key naming the same property of `toJS()`'s object as an earlier key of its map, in
 * document order, with that earlier key when it is written differently (`"1":` after `1:`), for
 * YAML002 to point at. Keys are compared as toJS names them — null as "", other scalars by String() —
 * so `1:` and `"1":` (or `true:` and `"true":`, `~:` and `"":`) are duplicates: yaml's own check
 * compared scalar values, and the first was silently lost. One pass, a set per map.
 */
function duplicateKeys(doc: Document, text: string): { key: Node; twin: Node | undefined }[] {
  const written = (node: Node) => text.slice(node.range![0], node.range![1]);
  const duplicates: { key: Node; twin: Node | undefined }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, Node>();
      for (const { key } of map.items) {
        const name = jsKeyName(key);
        if (name === undefined || !isScalar(key) || !key.range) continue;
        const earlier = seen.get(name);
        if (!earlier) seen.set(name, key);
        else duplicates.push({ key, twin: written(key) !== written(earlier) ? earlier : undefined });
      }
    },
  });
  // visit sees a map's keys before the maps under them: back to the order of the text.
  return duplicates.sort((a, b) => a.key.range![0] - b.key.range![0]);
}

const formatAt = ({ line, col }: { line: number; col: number }) => `${line}:${col}`;

/** The property name `toJS()` gives a scalar map key (undefined for other keys and for a merge key). */
function jsKeyName(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  return value === null ? "" : typeof value === "object" || typeof value === "symbol" ? undefined : String(value);
}

/**
 * Offset → 1-based line and column, from the text's own line feeds (a sorted array of line starts
 * and a binary search). yaml's LineCounter only learns the line starts its lexer reports, which
 * after a syntax error misses those inside multi-line scalars. A byte-order mark is no column: yaml
 * counts it in its offsets, the user's editor does not show it.
 */
function positionsOf(text: string): (offset: number) => { line: number; col: number } {
  const bom = text.startsWith("\uFEFF") ? 1 : 0;
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return (offset) => {
    const o = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: o - starts[lo]! + 1 - (lo === 0 && o >= bom ? bom : 0) };
  };
}

/** The first syntax errors by position, and one line counting the rest: one mistake can cascade into hundreds. */
function capSyntaxErrors(errors: Diagnostic[]): Diagnostic[] {
  if (errors.length <= MAX_SYNTAX_ERRORS) return errors;
  const sorted = [...errors].sort((a, b) => a.line - b.line || a.col - b.col);
  const rest = sorted.length - MAX_SYNTAX_ERRORS;
  const next = sorted[MAX_SYNTAX_ERRORS]!;
  return [
    ...sorted.slice(0, MAX_SYNTAX_ERRORS),
    {
      ...next,
      message: `… and ${rest} more YAML syntax error${rest === 1 ? "" : "s"} (fix the ones above first: they often cause the rest)`,
    },
  ];
}

/**
 * YAML001 at an alias that cannot be expanded safely: its anchor is not defined before it, it sits
 * inside the value it stands for (a cycle), or together with the aliases before it the file would
 * grow by more than MAX_ALIAS_EXPANSION nodes. Anchors resolve as yaml resolves them: to the last
 * node with that anchor before the alias, in document order.
 */
function aliasDiagnostics(
  doc: Document,
  file: string,
  at: (offset: number) => { line: number; col: number },
): Diagnostic[] {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node | undefined>();
  const cycles = new Set<Alias>();
  visit(doc, {
    Node(_, node, path) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        targets.set(node, target);
        if (target && path.includes(target as never)) cycles.add(node);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  if (targets.size === 0) return [];
  const sizes = new Map<Node, number>();
  const open = new Set<Node>();
  /** Nodes `node` stands for once every alias in it is expanded (Infinity for a cycle, which is reported first). */
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node);
      return target === undefined ? 1 : size(target);
    }
    if (!isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) return Number.POSITIVE_INFINITY;
    open.add(node);
    let total = 1;
    for (const item of node.items) total += isPair(item) ? size(item.key) + size(item.value) : size(item);
    open.delete(node);
    sizes.set(node, total);
    return total;
  };
  const problem = (alias: Alias, message: string): Diagnostic[] => [
    { file, ...at(alias.range?.[0] ?? 0), severity: "error", code: "YAML001", message },
  ];
  let added = 0;
  for (const [alias, target] of targets) {
    if (target === undefined) return problem(alias, `alias *${alias.source} has no anchor &${alias.source} before it`);
    if (cycles.has(alias)) return problem(alias, `alias *${alias.source} is inside the value it stands for (a cycle)`);
    added += size(target);
    if (added > MAX_ALIAS_EXPANSION)
      return problem(
        alias,
        `with alias *${alias.source}, the aliases of this file stand for more than ${MAX_ALIAS_EXPANSION} values (a limit against "billion laughs" files); repeat less through aliases`,
      );
  }
  return [];
}

function firstLine(message: string): string {
  // yaml's messages end with "at line L, column C" plus a code frame; the position is printed separately.
  return (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "").trim();
}

function duplicateKeyName(text: string, offset: number): string | undefined {
  const match = /^\s*(?:-\s+)?("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:#\n]+?)\s*:/.exec(text.slice(offset, offset + 300));
  return match?.[1] ? `"${match[1].replace(/^["']|["']$/g, "")}"` : undefined;
}

interface Step {
  next: unknown;
  keyOffset: number | undefined;
  /**
   * When the key is the map's through a merge key: the alias that brought it in (`*paging` of
   * `<<: *paging`), where the value written elsewhere is pointed at; undefined when it came from a
   * map written in place (`<<: {limit: 10}`), which is followed.
   */
  mergedVia?: Node;
}

/**
 * One step down from `node` along `segment`: the child, and its key's offset in a map. A key the map
 * does not set itself is looked up in its merge sources, in the order yaml merges them.
 */
function child(doc: Document, node: unknown, segment: string | number, seen = new Set<unknown>()): Step {
  if (isMap(node)) {
    // A map merging itself (a cycle) is YAML001 already; never looked up twice.
    if (seen.has(node)) return { next: undefined, keyOffset: undefined };
    seen.add(node);
    const pair = node.items.find(
      (p: Pair) => !isMergeKey(p.key) && (jsKeyName(p.key) ?? String(p.key)) === String(segment),
    );
    if (pair) return { next: pair.value, keyOffset: (pair.key as Node | null)?.range?.[0] };
    for (const merge of node.items) {
      if (!isMergeKey(merge.key)) continue;
      for (const source of mergeSources(doc, merge.value) ?? []) {
        const step = child(doc, source.map, segment, seen);
        if (step.next === undefined && step.keyOffset === undefined) continue;
        return isAlias(source.node) ? { ...step, mergedVia: step.mergedVia ?? source.node } : step;
      }
    }
    return { next: undefined, keyOffset: undefined };
  }
  if (isSeq(node) && (typeof segment === "number" || /^\d+$/.test(segment)))
    return { next: node.items[Number(segment)], keyOffset: undefined };
  return { next: undefined, keyOffset: undefined };
}

/** The node at `path` (through aliases and merge keys), or undefined where the path leaves the document. */
function walk(doc: Document, path: readonly (string | number)[]): unknown {
  let node: unknown = doc.contents;
  for (const segment of path) {
    node = resolved(doc, child(doc, resolved(doc, node), segment).next);
    if (node === undefined) break;
  }
  return node;
}

const scalarIn = (set: ReadonlySet<Scalar>, node: unknown): boolean => isScalar(node) && set.has(node);

function locateNode(
  doc: Document,
  path: readonly (string | number)[],
  wantKey: boolean,
  at: (offset: number) => { line: number; col: number },
): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const { next, keyOffset, mergedVia } = child(doc, node, path[i] as string | number);
    if (next === undefined && keyOffset === undefined) break;
    // Brought in through `<<: *name`: what is written elsewhere is pointed at where this map takes it,
    // as a value behind a plain alias is.
    if (mergedVia) return at(mergedVia.range?.[0] ?? offset);
    const last = i === path.length - 1;
    if (last && wantKey && keyOffset !== undefined) return at(keyOffset);
    const nodeOffset = (next as Node | null)?.range?.[0];
    if (nodeOffset === undefined) {
      // `key:` with no value: the key is the best place to point at.
      if (keyOffset !== undefined) offset = keyOffset;
      break;
    }
    node = next;
    offset = nodeOffset;
  }
  return at(offset);
}

const PLACEHOLDER_START = "${";
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Expansion {
  value: string;
  problems: { index: number; code: "ENV001" | "ENV002"; message: string }[];
  /** Whether a non-empty part of `value` came from a `:-default` written in the file. */
  fromDefault: boolean;
}

/**
 * Expands `${VAR}` and `${VAR:-default}` (the default may itself hold placeholders); `$${` is a
 * literal `${`. Returns the problems with their index in `raw`.
 */
export function expandPlaceholders(raw: string, env: EnvSubstitution["env"]): Expansion {
  const problems: Expansion["problems"] = [];
  let fromDefault = false;
  let out = "";
  let i = 0;
  while (i < raw.length) {
    if (raw.startsWith("$${", i)) {
      out += "${";
      i += 3;
      continue;
    }
    if (!raw.startsWith(PLACEHOLDER_START, i)) {
      out += raw[i];
      i++;
      continue;
    }
    const end = matchingBrace(raw, i + 2);
    if (end < 0) {
      problems.push({
        index: i,
        code: "ENV001",
        // Only the name: what follows may be a default holding a secret.
        message: `unterminated placeholder "\${${placeholderName(raw.slice(i + 2))}": expected "}"`,
      });
      return { value: out, problems, fromDefault };
    }
    const body = raw.slice(i + 2, end);
    const sep = body.indexOf(":-");
    const name = sep >= 0 ? body.slice(0, sep) : body;
    if (!VAR_NAME.test(name)) {
      problems.push({
        index: i,
        code: "ENV001",
        message: `malformed placeholder "\${${sep >= 0 ? `${name.slice(0, 60)}:-…` : leadingName(body)}}": use \${NAME} or \${NAME:-default}, NAME of letters, digits and _`,
      });
      i = end + 1;
      continue;
    }
    const value = env[name];
    if (value !== undefined && value !== "") {
      out += value;
    } else if (sep >= 0) {
      const inner = expandPlaceholders(body.slice(sep + 2), env);
      out += inner.value;
      // Text of the default itself, or a nested placeholder's default: either is written in the file.
      if (inner.value !== "") fromDefault ||= inner.fromDefault || literalText(body.slice(sep + 2));
      for (const p of inner.problems) problems.push({ ...p, index: i + 2 + sep + 2 + p.index });
    } else {
      problems.push({
        index: i,
        code: "ENV002",
        message: `environment variable ${name} is not set (and \${${name}} has no default; write \${${name}:-default} for one)`,
      });
    }
    i = end + 1;
  }
  return { value: out, problems, fromDefault };
}

/** Whether a default holds text of its own, outside any nested placeholder (`$${` counts as text). */
function literalText(raw: string): boolean {
  let i = 0;
  while (i < raw.length) {
    if (raw.startsWith("${", i)) {
      const end = matchingBrace(raw, i + 2);
      if (end < 0) return true;
      i = end + 1;
    } else {
      if (!/\s/.test(raw[i] ?? "")) return true;
      i++;
    }
  }
  return false;
}

function matchingBrace(raw: string, from: number): number {
  let depth = 1;
  for (let j = from; j < raw.length; j++) {
    if (raw.startsWith("${", j)) {
      depth++;
      j++;
    } else if (raw[j] === "}") {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

/** A placeholder that came out empty, dropped from the document. */
interface Dropped {
  /**
   * Its data path; for an item of a list, the list's (the items after it moved up). `exact` when
   * the path is the placeholder's own.
   */
  path: string[];
  exact: boolean;
  offset: number;
  unset: boolean;
}

interface Substitutions {
  /** Scalars written with a placeholder. */
  substituted: Set<Scalar>;
  /** Scalars whose value came from a placeholder's default. */
  defaulted: Set<Scalar>;
  dropped: Dropped[];
}

function substituteEnv(
  doc: Document,
  file: string,
  text: string,
  at: (offset: number) => { line: number; col: number },
  { env, unsetSeverity, schema }: EnvSubstitution,
  { substituted, defaulted, dropped }: Substitutions,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  /** Scalars made only of placeholders that came out empty, and whether a variable was unset (ENV002). */
  const emptied = new Map<Scalar, { unset: boolean }>();
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === "key" || typeof node.value !== "string" || !node.value.includes("$")) return;
      const raw = node.value;
      const expansion = expandPlaceholders(raw, env);
      if (expansion.problems.length === 0 && expansion.value === raw) return;
      // A placeholder, not only a `$${` escape: the value comes from the environment.
      if (/(?:^|[^$])\$\{/.test(raw)) substituted.add(node);
      if (expansion.fromDefault) defaulted.add(node);
      const start = node.range?.[0] ?? 0;
      const quoteShift = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE" ? 1 : 0;
      const exact = text.slice(start + quoteShift, start + quoteShift + raw.length) === raw;
      for (const p of expansion.problems) {
        diagnostics.push({
          file,
          ...at(exact ? start + quoteShift + p.index : start),
          severity: p.code === "ENV002" ? unsetSeverity : "error",
          code: p.code,
          message: p.message,
        });
      }
      const onlyPlaceholders = /^\$\{.*\}$/s.test(raw) && matchingBrace(raw, 2) === raw.length - 1;
      if (onlyPlaceholders && expansion.value.trim() === "") {
        emptied.set(node, { unset: expansion.problems.some((p) => p.code === "ENV002") });
        node.value = "";
      } else if (onlyPlaceholders && node.type === "PLAIN") {
        const typed = readPlainScalar(expansion.value);
        const path = jsPath(ancestors, node);
        node.value =
          typed !== undefined && (schema === undefined || (path !== undefined && acceptsTypeAt(schema, path, typed)))
            ? typed
            : expansion.value;
      } else {
        node.value = expansion.value;
      }
    },
  });
  if (emptied.size > 0) {
    // Where aliases and merge keys repeat them (found before they are removed below).
    const repeated = dataPaths(doc, new Set(emptied.keys()));
    // An optional setting whose variable is unset behaves as if it were not written.
    const drop = (node: Scalar, path: (string | number)[] | undefined, exact: boolean) => {
      if (path !== undefined)
        dropped.push({ path: path.map(String), exact, offset: node.range?.[0] ?? 0, unset: emptied.get(node)!.unset });
    };
    visit(doc, {
      Pair(_, pair, ancestors) {
        if (!isScalar(pair.value) || !emptied.has(pair.value)) return;
        const parent = jsPath(ancestors, pair);
        const name = jsKeyName(pair.key);
        drop(pair.value, parent && name !== undefined ? [...parent, name] : undefined, true);
        return visit.REMOVE;
      },
      Scalar(key, node, ancestors) {
        if (key === "key" || key === "value" || !emptied.has(node)) return;
        // An item of a list: the list as a whole depends on the environment.
        drop(node, jsPath(ancestors, node)?.slice(0, -1), false);
        return visit.REMOVE;
      },
    });
    // A merge key or an alias brings the dropped placeholder elsewhere: dropped there too (a merged
    // authorization server whose `type: ${AS_TYPE}` came out empty was "missing required key type").
    for (const { path, scalar, inList } of repeated) {
      const at = inList ? path.slice(0, -1) : path;
      if (!dropped.some((d) => d.path.length === at.length && startsWith(d.path, at))) drop(scalar, at, !inList);
    }
  }
  return diagnostics;
}

/**
 * A substituted value read as a YAML plain scalar when it is a boolean, number or null (`true`, `42`,
 * `~`); undefined for anything else, which stays the string it is: re-reading it as YAML would drop
 * a `!tag`, strip quotes or cut a ` #comment` off a secret.
 */
function readPlainScalar(value: string): boolean | number | null | undefined {
  const text = value.trim();
  const parsed = parseDocument(text, { strict: true });
  if (parsed.errors.length > 0 || parsed.warnings.length > 0 || !isScalar(parsed.contents)) return undefined;
  const scalar = parsed.contents;
  // Exactly the text, nothing around it (a comment), no tag, no anchor, not quoted.
  if (scalar.type !== "PLAIN" || scalar.tag || scalar.anchor || parsed.comment || scalar.comment) return undefined;
  if (scalar.range?.[0] !== 0 || scalar.range?.[1] !== text.length) return undefined;
  const v = scalar.value;
  return typeof v === "boolean" || typeof v === "number" || v === null ? v : undefined;
}

/**
 * The data path (as `toJS()` names it) of `node`, from the ancestors `visit` gives; undefined under a
 * complex key. A map written in place under a merge key (`<<: {a: 1}`, or in a list there) gives its
 * keys to the map holding the merge key: it adds nothing to the path.
 */
function jsPath(ancestors: readonly unknown[], node: unknown): (string | number)[] | undefined {
  const path: (string | number)[] = [];
  let merged = false;
  for (let i = 0; i < ancestors.length; i++) {
    const ancestor = ancestors[i];
    const next = i + 1 < ancestors.length ? ancestors[i + 1] : node;
    const mergedHere = merged;
    merged = false;
    if (isPair(ancestor)) {
      if (ancestor.value !== next) return undefined;
      if (isMergeKey(ancestor.key)) {
        merged = true;
        continue;
      }
      const name = jsKeyName(ancestor.key);
      if (name === undefined) return undefined;
      path.push(name);
    } else if (isSeq(ancestor)) {
      if (mergedHere) continue; // the list of a merge key's maps
      path.push(ancestor.items.indexOf(next as never));
    }
  }
  return path;
}

/** An unterminated placeholder's text for a message: its name, never what follows (a default may be a secret). */
function placeholderName(text: string): string {
  const name = /^[^\s:}]{0,40}/.exec(text)?.[0] ?? "";
  return name.length < text.length ? `${name}${text.startsWith(`${name}:-`) ? ":-" : ""}…` : name;
}

/**
 * A malformed placeholder's text without `:-` for a message: its leading name only, "…" for the rest
 * — the rest may be a default in another shell's form (`${KEY-tgk_…}`, `${KEY:=…}`), a secret.
 */
function leadingName(body: string): string {
  const name = /^[A-Za-z0-9_]{0,60}/.exec(body)?.[0] ?? "";
  return name.length < body.length ? `${name}…` : name;
}
