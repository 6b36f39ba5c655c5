import crypto from "node:crypto";

/** Case- and whitespace-insensitive form of a prompt: the key that makes two prompts the same arm. */
export function normalizePromptText(text: string): string {
  return text.normalize("NFKC").trim().toLowerCase().replace(/\s+/g, " ");
}

export interface GenerationSettings {
  model: string;
  temperature: number;
  maxTokens: number;
  seed: number | null;
}

/** Stable short hash of the settings a response was generated with (responses.settings_hash). */
export function generationSettingsHash(settings: GenerationSettings): string {
  const canonical = JSON.stringify([settings.model, settings.temperature, settings.maxTokens, settings.seed]);
  return crypto.createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}
