import { defineHandler } from "../toolgate.js";

/** test_custom_header — the region arrives in the body and, checked equal by toolgate, in Mcp-Param-Region. */
export default defineHandler("test_custom_header", async (input) => `region: ${input.region}`);
