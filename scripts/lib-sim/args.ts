import { z } from "zod";

/**
 * Splits `--name value` / `--flag` / `--name=value` arguments into a record. Repeated names keep the last value.
 * Throws on a bare positional argument so typos surface instead of being ignored.
 */
export function parseFlags(argv: readonly string[]): Record<string, string | true> {
  const flags: Record<string, string | true> = {};
  for (let k = 0; k < argv.length; k++) {
    const argument = argv[k]!;
    if (!argument.startsWith("--")) throw new Error(`unexpected argument "${argument}" (options start with --)`);
    const body = argument.slice(2);
    const equals = body.indexOf("=");
    if (equals >= 0) {
      flags[body.slice(0, equals)] = body.slice(equals + 1);
    } else if (k + 1 < argv.length && !argv[k + 1]!.startsWith("--")) {
      flags[body] = argv[++k]!;
    } else {
      flags[body] = true;
    }
  }
  return flags;
}

/** Validates flags against a zod object schema (make it z.strictObject so unknown flags are errors) with readable messages. */
export function validateFlags<Schema extends z.ZodObject>(schema: Schema, flags: Record<string, string | true>, usage: string): z.infer<Schema> {
  const result = schema.safeParse(flags);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `unknown option(s): ${issue.keys.map((key) => `--${key}`).join(", ")}`;
    const name = issue.path.length > 0 ? `--${issue.path.join(".")}` : "arguments";
    return `${name}: ${issue.message}`;
  });
  throw new Error(`${problems.join("\n")}\n\nusage: ${usage}`);
}

export const positiveInteger = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .positive(`${name} must be positive`);

export const positiveNumber = (name: string) => z.coerce.number({ error: `${name} must be a number` }).positive(`${name} must be positive`);

export const commaList = z.string().transform((value) =>
  value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0),
);
