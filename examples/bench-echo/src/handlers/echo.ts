import { defineHandler } from "../toolgate.js";

/** echo — the benchmark's trivial tool: the same work as the baselines' echo (one text block). */
export default defineHandler("echo", async (input) => input.text);
