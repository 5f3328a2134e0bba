import { TEST_AUDIO_WAV_BASE64 } from "../fixtures.js";
import { defineHandler, toolResult } from "../toolgate.js";

/**
 * test_audio_content — Audio content
 * Declared in tools.yaml#/tools/test_audio_content. Scenario tools-call-audio of @modelcontextprotocol/conformance.
 */
export default defineHandler("test_audio_content", () =>
  toolResult({ content: [{ type: "audio", data: TEST_AUDIO_WAV_BASE64, mimeType: "audio/wav" }] }),
);
