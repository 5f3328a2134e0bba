import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readSettings, resetSettings, SettingsError, settings } from "../../src/shipped/settings.js";

afterEach(() => resetSettings());

describe("settings", () => {
  it("has defaults relative to the working directory", () => {
    expect(readSettings({}, "/srv/app")).toEqual({
      codebaseRoot: "/srv/app",
      codebaseRootSignedIn: "/srv/app",
      codebaseMaxFileBytes: 1048576,
      codebaseMaxFiles: 20000,
      codebaseSearchTimeoutMs: 2000,
      docsDir: "/srv/app/data/docs",
      docsMaxFiles: 10_000,
      docsMaxBytes: 1024 ** 3,
      memoryDb: "/srv/app/data/memory.sqlite",
      memoryMaxPerUser: 10_000,
      memoryMaxBytesPerUser: 64 * 1024 ** 2,
    });
  });

  it("reads every variable", () => {
    const s = readSettings(
      {
        CODEBASE_ROOT: "pub",
        CODEBASE_ROOT_SIGNED_IN: "/abs/all",
        CODEBASE_MAX_FILE_BYTES: "2048",
        CODEBASE_MAX_FILES: "10",
        CODEBASE_SEARCH_TIMEOUT_MS: "750",
        DOCS_DIR: "/var/docs",
        DOCS_MAX_FILES: "5",
        DOCS_MAX_BYTES: "4096",
        MEMORY_DB: "db/m.sqlite",
        MEMORY_MAX_PER_USER: "7",
        MEMORY_MAX_BYTES_PER_USER: "8192",
      },
      "/srv/app",
    );
    expect(s).toEqual({
      codebaseRoot: "/srv/app/pub",
      codebaseRootSignedIn: "/abs/all",
      codebaseMaxFileBytes: 2048,
      codebaseMaxFiles: 10,
      codebaseSearchTimeoutMs: 750,
      docsDir: "/var/docs",
      docsMaxFiles: 5,
      docsMaxBytes: 4096,
      memoryDb: "/srv/app/db/m.sqlite",
      memoryMaxPerUser: 7,
      memoryMaxBytesPerUser: 8192,
    });
  });

  it("follows DATA_DIR for the documents and the database, and CODEBASE_ROOT for the signed-in root", () => {
    const s = readSettings({ DATA_DIR: "/tmp/x", CODEBASE_ROOT: "code" }, "/srv/app");
    expect(s.docsDir).toBe("/tmp/x/docs");
    expect(s.memoryDb).toBe("/tmp/x/memory.sqlite");
    expect(s.codebaseRootSignedIn).toBe("/srv/app/code");
  });

  it.each([
    ["CODEBASE_MAX_FILES", "many"],
    ["CODEBASE_MAX_FILES", "0"],
    ["CODEBASE_MAX_FILE_BYTES", "-1"],
    ["CODEBASE_SEARCH_TIMEOUT_MS", "1.5"],
    ["CODEBASE_SEARCH_TIMEOUT_MS", "10"],
    ["DOCS_MAX_FILES", "0"],
    ["DOCS_MAX_BYTES", "1gb"],
    ["MEMORY_MAX_PER_USER", "-5"],
    ["MEMORY_MAX_BYTES_PER_USER", "0"],
  ])("refuses %s=%j naming the variable", (name, value) => {
    expect(() => readSettings({ [name]: value })).toThrow(SettingsError);
    expect(() => readSettings({ [name]: value })).toThrow(name);
  });

  it("reads process.env once, until reset", () => {
    const before = process.env.DOCS_DIR;
    try {
      process.env.DOCS_DIR = "/first";
      resetSettings();
      expect(settings().docsDir).toBe("/first");
      process.env.DOCS_DIR = "/second";
      expect(settings().docsDir).toBe("/first");
      resetSettings();
      expect(settings().docsDir).toBe("/second");
      resetSettings({ ...settings(), docsDir: join("/", "injected") });
      expect(settings().docsDir).toBe("/injected");
    } finally {
      if (before === undefined) delete process.env.DOCS_DIR;
      else process.env.DOCS_DIR = before;
    }
  });
});
