/**
 * Runs before every test file: the shipped tools and the development authorization server keep
 * their files under DATA_DIR, so each test worker gets a temporary one and nothing a test does
 * lands in the project's own data/ folder. Tests that need their own folders set them explicitly.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

process.env.DATA_DIR = mkdtempSync(join(tmpdir(), "toolgate-test-data-"));
delete process.env.DOCS_DIR;
delete process.env.MEMORY_DB;
