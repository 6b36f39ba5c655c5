import { z } from "zod";

// Every variable is optional: with none set the app runs on ./data/promptduel.db, offline.
const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_PATH: z.string().min(1).default("./data/promptduel.db"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // Comma-separated list: the first signs new cookies, all are accepted (rotation).
  SESSION_SECRET: z
    .string()
    .optional()
    .transform((value) => value?.split(",").map((s) => s.trim()).filter(Boolean))
    .refine((list) => list === undefined || list.every((s) => s.length >= 16), {
      message: "every SESSION_SECRET entry must be at least 16 characters",
    }),
  ASSIGNMENT_TTL_MINUTES: z.coerce.number().positive().max(24 * 60).default(10),
});

export type Env = z.infer<typeof EnvSchema>;

/** Parses `source` (process.env by default) and throws one readable message listing every bad variable. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new Error(`Invalid environment:\n${problems}`);
  }
  return result.data;
}

/** The validated process environment (parsed on each call: cheap, and tests can change it). */
export function env(): Env {
  return parseEnv();
}
