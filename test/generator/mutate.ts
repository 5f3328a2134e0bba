/**
 * Seeded damage for the mutation test: each mutation takes a YAML text and a PRNG and returns a
 * variant, so the same seed always gives the same variants.
 */

/** mulberry32: tiny, fast and reproducible. Returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, list: readonly T[]): T => list[int(random, list.length)]!;

const lines = (text: string) => text.split("\n");
const insertAt = (text: string, at: number, s: string) => text.slice(0, at) + s + text.slice(at);

/** Indexes of lines holding `key:` (optionally after `- `), with the key's start and end. */
function keyLines(text: string): { line: number; start: number; end: number }[] {
  const out: { line: number; start: number; end: number }[] = [];
  lines(text).forEach((l, line) => {
    const m = /^(\s*(?:- )?)([A-Za-z_$][\w.$-]*):(?:\s|$)/.exec(l);
    if (m) out.push({ line, start: m[1]!.length, end: m[1]!.length + m[2]!.length });
  });
  return out;
}

const OTHER_SCALARS = [
  "42",
  "-1.5",
  "true",
  "false",
  "null",
  "~",
  "[]",
  "{}",
  "[a, b]",
  "{x: 1}",
  "''",
  '"text"',
  "0x1F",
];
const OTHER_KEYS = ["type", "title", "tools", "input", "output", "scopes", "properties", "requried", "descripton", "x"];
const UNICODE = [
  "\u00a0", // no-break space
  "\u200b", // zero-width space
  "\ufeff", // byte order mark
  "\u202e", // right-to-left override
  "\u0000",
  "\u0007",
  "\u0085", // next line
  "\u2028", // line separator
  "é",
  "ß",
  "字",
  "😀",
  "\ud800", // a lone surrogate
  "\u{10ffff}",
];

export interface Mutation {
  name: string;
  apply(text: string, random: Random): string;
}

export const MUTATIONS: Mutation[] = [
  {
    name: "delete a line",
    apply: (text, r) => {
      const ls = lines(text);
      ls.splice(int(r, ls.length), 1);
      return ls.join("\n");
    },
  },
  {
    name: "duplicate a line",
    apply: (text, r) => {
      const ls = lines(text);
      const i = int(r, ls.length);
      ls.splice(i, 0, ls[i]!);
      return ls.join("\n");
    },
  },
  {
    name: "swap two lines",
    apply: (text, r) => {
      const ls = lines(text);
      const i = int(r, ls.length);
      const j = r() < 0.5 ? Math.min(ls.length - 1, i + 1) : int(r, ls.length);
      [ls[i], ls[j]] = [ls[j]!, ls[i]!];
      return ls.join("\n");
    },
  },
  {
    name: "change indentation",
    apply: (text, r) => {
      const ls = lines(text);
      const i = int(r, ls.length);
      const delta = pick(r, [-4, -2, -1, 1, 2, 4]);
      ls[i] = delta > 0 ? " ".repeat(delta) + ls[i] : ls[i]!.replace(new RegExp(`^ {0,${-delta}}`), "");
      return ls.join("\n");
    },
  },
  {
    name: "delete a character",
    apply: (text, r) => {
      const at = int(r, text.length);
      return text.slice(0, at) + text.slice(at + 1);
    },
  },
  {
    name: "insert a character",
    apply: (text, r) => insertAt(text, int(r, text.length + 1), String.fromCharCode(32 + int(r, 95))),
  },
  {
    name: "replace a scalar with another type",
    apply: (text, r) => {
      const ls = lines(text);
      const candidates = ls.flatMap((l, i) => (/^\s*(?:- )?[\w.$-]+: \S/.test(l) ? [i] : []));
      if (candidates.length === 0) return text;
      const i = pick(r, candidates);
      ls[i] = ls[i]!.replace(/^(\s*(?:- )?[\w.$-]+: ).*$/, `$1${pick(r, OTHER_SCALARS)}`);
      return ls.join("\n");
    },
  },
  {
    name: "truncate the file",
    apply: (text, r) => text.slice(0, int(r, text.length)),
  },
  {
    name: "insert a tab",
    apply: (text, r) => {
      if (r() < 0.5) {
        const ls = lines(text);
        const i = int(r, ls.length);
        ls[i] = `\t${ls[i]}`;
        return ls.join("\n");
      }
      return insertAt(text, int(r, text.length + 1), "\t");
    },
  },
  {
    name: "insert ': ', '- ' or '{'",
    apply: (text, r) => insertAt(text, int(r, text.length + 1), pick(r, [": ", "- ", "{"])),
  },
  {
    name: "rename a key",
    apply: (text, r) => {
      const keys = keyLines(text);
      if (keys.length === 0) return text;
      const k = pick(r, keys);
      const ls = lines(text);
      const line = ls[k.line]!;
      const key = line.slice(k.start, k.end);
      const renamed =
        r() < 0.5
          ? pick(r, OTHER_KEYS)
          : key.length > 1
            ? (() => {
                // swap two adjacent letters: a typo
                const at = int(r, key.length - 1);
                return key.slice(0, at) + key[at + 1] + key[at] + key.slice(at + 2);
              })()
            : `${key}x`;
      ls[k.line] = line.slice(0, k.start) + renamed + line.slice(k.end);
      return ls.join("\n");
    },
  },
  {
    name: "insert a unicode character",
    apply: (text, r) => insertAt(text, int(r, text.length + 1), pick(r, UNICODE)),
  },
];

export interface Variant {
  index: number;
  mutations: string[];
  text: string;
}

/** `count` variants of `base`, each damaged by one to three mutations, reproducibly from `seed`. */
export function variants(base: string, count: number, seed: number): Variant[] {
  const random = prng(seed);
  const out: Variant[] = [];
  for (let index = 0; index < count; index++) {
    let text = base;
    let applied: string[] = [];
    // A mutation can be a no-op (swapping a line with itself); draw again until the text changed.
    for (let attempt = 0; text === base && attempt < 20; attempt++) {
      applied = [];
      const n = random() < 0.7 ? 1 : 1 + int(random, 3);
      for (let k = 0; k < n; k++) {
        // Every mutation leads equally often across the run (round robin), then a few random extras.
        const m = k === 0 ? MUTATIONS[index % MUTATIONS.length]! : pick(random, MUTATIONS);
        text = m.apply(text, random);
        applied.push(m.name);
      }
    }
    out.push({ index, mutations: applied, text });
  }
  return out;
}
