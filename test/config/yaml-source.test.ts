/**
 * parseYamlSource. Duplicate keys (YAML002), found by one pass of toolgate's own rather than yaml's
 * quadratic check: keys compared as the property names they become, reported in the order of the
 * text, nested maps included, with the earlier key when it is written differently. A second document
 * (YAML001). What a `${VAR}` placeholder makes depend on the environment.
 */
import { describe, expect, it } from "vitest";
import { parseYamlSource } from "../../src/config/yaml-source.js";

const lines = (text: string) =>
  parseYamlSource("f.yaml", text).diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);

describe("duplicate keys", () => {
  it("are reported in the order of the text, a nested map's before a later key of its parent", () => {
    const source = parseYamlSource("f.yaml", "a:\n  x: 1\n  x: 2\nb: 1\na: 3\n");
    expect(source.value).toBeUndefined();
    expect(lines("a:\n  x: 1\n  x: 2\nb: 1\na: 3\n")).toEqual([
      '3:3 YAML002 duplicate key: "x"',
      '5:1 YAML002 duplicate key: "a"',
    ]);
  });

  it("are keys naming the same property, however written; the earlier key named when written differently", () => {
    expect(lines('m:\n  1: a\n  "1": b\n  ~: c\n  "": d\n  k: e\n  k: f\n')).toEqual([
      '3:3 YAML002 duplicate key: "1" (the key 1 at 2:3 names the same property)',
      '5:3 YAML002 duplicate key: "" (the key ~ at 4:3 names the same property)',
      '7:3 YAML002 duplicate key: "k"',
    ]);
  });

  it("leave a map of many distinct keys alone, and find the one duplicate among them", () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`);
    expect(parseYamlSource("f.yaml", keys.join("\n")).diagnostics).toEqual([]);
    expect(lines([...keys, "k19999: again"].join("\n"))).toEqual(['20001:1 YAML002 duplicate key: "k19999"']);
  });
});

describe("a second document", () => {
  it("is one YAML001 that says what to do, in the user's words, not yaml's API", () => {
    expect(lines("tools: {}\n---\ntools: {}\n")).toEqual([
      '2:1 YAML001 a single YAML document is expected; remove the "---" on line 2 and what follows, or merge the documents',
    ]);
    expect(lines("a: 1\n...\nb: 2\n")).toEqual([
      "3:1 YAML001 a single YAML document is expected, but another starts on line 3; remove it and what follows, or merge the documents",
    ]);
  });
});

describe("placeholders: what depends on the environment", () => {
  const text = `a:\n  - \${X}\n  - b\nc:\n  d: \${Z:-}\n  e: \${W:-w}\n  g: \${U}\nf: lit\n`;
  const source = parseYamlSource("f.yaml", text, { env: { W: "set" }, unsetSeverity: "warning" });

  it("a value from a placeholder, set, defaulted or dropped, and what holds one", () => {
    expect(source.value).toEqual({ a: ["b"], c: { e: "set" }, f: "lit" });
    for (const path of [["a"], ["a", 0], ["c"], ["c", "d"], ["c", "e"], ["c", "g"], []])
      expect(source.fromEnvironment(path), JSON.stringify(path)).toBe(true);
    expect(source.fromEnvironment(["f"])).toBe(false);
    expect(source.fromEnvironment(["c", "h"])).toBe(false);
  });

  it("a dropped placeholder: where it was written, and whether its variable is unset", () => {
    expect(source.droppedPlaceholder(["c", "d"])).toEqual({ line: 5, col: 6, unset: false });
    expect(source.droppedPlaceholder(["c", "g"])).toEqual({ line: 7, col: 6, unset: true });
    expect(source.droppedPlaceholder(["c", "e"])).toBeUndefined();
    expect(source.droppedPlaceholder(["c"])).toBeUndefined();
  });

  it("nothing without substitution", () => {
    const plain = parseYamlSource("f.yaml", text);
    expect(plain.fromEnvironment(["c", "d"])).toBe(false);
    expect(plain.droppedPlaceholder(["c", "g"])).toBeUndefined();
  });
});

// Was a bug: `<<: *paging` was read as a key named "<<" (in tools.yaml: `TOOLS004: unknown JSON Schema
// keyword "<<" (did you mean "id"?)`). Merge keys are read (yaml `merge`), in tools.yaml and auth.yaml.
describe("merge keys", () => {
  const NOTE = "$" + "{NOTE:-n}";
  const text = [
    "base: &base", // 1
    "  type: object", // 2
    "  limit: 10", // 3
    `  note: ${NOTE}`, // 4
    "one:", // 5
    "  <<: *base", // 6
    "  limit: 20", // 7
    "two:", // 8
    "  <<: [{ limit: 30, extra: x }, *base]", // 9
    "  type: string", // 10
    "",
  ].join("\n");

  it("bring in the keys a map does not set itself, first source first, as yaml merges them", () => {
    const source = parseYamlSource("f.yaml", text);
    expect(source.diagnostics).toEqual([]);
    expect(source.value).toEqual({
      base: { type: "object", limit: 10, note: NOTE },
      one: { type: "object", limit: 20, note: NOTE },
      two: { type: "string", limit: 30, extra: "x", note: NOTE },
    });
  });

  it("point at the alias that brought a key in, into a map written in place, and at a key of the map's own", () => {
    const source = parseYamlSource("f.yaml", text);
    const at = (path: string[], key = false) => {
      const { line, col } = source.locate(path, { key });
      return `${line}:${col}`;
    };
    expect(at(["one", "type"])).toBe("6:7");
    expect(at(["one", "limit"])).toBe("7:10");
    expect(at(["one", "limit"], true)).toBe("7:3");
    expect(at(["two", "limit"])).toBe("9:17");
    expect(at(["two", "extra"], true)).toBe("9:21");
    expect(at(["two", "note"])).toBe("9:33");
    expect(at(["two", "type"])).toBe("10:9");
  });

  it("carry placeholders: a merged value from one depends on the environment where it is merged", () => {
    const source = parseYamlSource("f.yaml", text, { env: {}, unsetSeverity: "warning" });
    expect(source.value).toMatchObject({ one: { note: "n" }, two: { note: "n" } });
    for (const path of [["base", "note"], ["one", "note"], ["two", "note"], ["two"]])
      expect(source.fromEnvironment(path), JSON.stringify(path)).toBe(true);
    expect(source.fromPlaceholder(["one", "note"])).toBe(true);
    expect(source.fromDefault(["two", "note"])).toBe(true);
    expect(source.fromEnvironment(["one", "limit"])).toBe(false);
  });

  it("are no duplicates of the keys a map sets itself; a key twice in one map still is", () => {
    expect(lines("a: &a {k: 1}\nb:\n  <<: *a\n  k: 2\n  <<: {j: 1}\n")).toEqual([]);
    expect(lines("a: &a {k: 1}\nb:\n  <<: *a\n  j: 2\n  j: 3\n")).toEqual(['5:3 YAML002 duplicate key: "j"']);
    expect(parseYamlSource("f.yaml", 'b:\n  "<<": {j: 1}\n').value).toEqual({ b: { "<<": { j: 1 } } });
  });

  // A placeholder that came out empty was dropped where written only: the map merging it was then
  // "missing required key" instead of the placeholder's own message.
  it("drop a placeholder that came out empty wherever a merge brings it, located where it is written", () => {
    const AS_TYPE = "$" + "{AS_TYPE}";
    const source = parseYamlSource(
      "f.yaml",
      `servers:\n  - &one\n    type: ${AS_TYPE}\n    issuer: a\n  - <<: *one\n    issuer: b\n`,
      { env: {}, unsetSeverity: "warning" },
    );
    expect(source.value).toEqual({ servers: [{ issuer: "a" }, { issuer: "b" }] });
    for (const i of [0, 1]) {
      expect(source.droppedPlaceholder(["servers", i, "type"]), String(i)).toEqual({ line: 3, col: 11, unset: true });
      expect(source.fromEnvironment(["servers", i, "type"])).toBe(true);
    }
    expect(source.droppedPlaceholder(["servers", 1, "issuer"])).toBeUndefined();
  });

  // `<<: *list` was refused (the value was tested for a list before the alias was resolved).
  it("take an alias of a list of maps as the list", () => {
    const source = parseYamlSource("f.yaml", "list: &l [{a: 1}, {b: 2, a: 3}]\nx:\n  <<: *l\n  c: 4\n");
    expect(source.diagnostics).toEqual([]);
    expect(source.value).toMatchObject({ x: { a: 1, b: 2, c: 4 } });
    const { line, col } = source.locate(["x", "b"]);
    expect(`${line}:${col}`).toBe("3:7");
    expect(lines("l: &l [{a: 1}, 5]\nx:\n  <<: *l\n")).toHaveLength(1);
  });

  it("take maps only: anything else is a YAML001 at its value, not a crash", () => {
    const message =
      "a merge key (<<) takes a map, an alias of a map (<<: *name) or a list of them, whose keys the map takes unless it sets them itself";
    expect(lines("b:\n  <<: 5\n")).toEqual([`2:7 YAML001 ${message}`]);
    expect(lines("a: &a [1]\nb:\n  <<: [{k: 1}, *a]\n")).toEqual([`3:7 YAML001 ${message}`]);
    expect(lines("b:\n  <<: *nope\n")).toEqual(["2:7 YAML001 alias *nope has no anchor &nope before it"]);
    expect(lines("a: &a\n  <<: *a\n")).toEqual(["2:7 YAML001 alias *a is inside the value it stands for (a cycle)"]);
  });
});
