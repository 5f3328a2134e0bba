/**
 * Runs before every test file: the shipped tools and the development authorization server keep
 * their files under DATA_DIR, so each test worker gets a temporary one and nothing a test does
 * lands in the project's own data/ folder; it is removed after the file's tests. Tests that need
 * their own folders set them explicitly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const dataDir = mkdtempSync(join(tmpdir(), "toolgate-test-data-"));
process.env.DATA_DIR = dataDir;
// Removed after the file's tests (servers they started are closed by then): ~70 were left per run.
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
delete process.env.DOCS_DIR;
delete process.env.MEMORY_DB;
