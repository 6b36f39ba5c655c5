import { json } from "@remix-run/node";
import type { z } from "zod";

/**
 * Parses a JSON request body with `schema`. Throws a 400 JSON Response naming the problem (bad
 * content type, malformed JSON, or the schema's field errors), so API actions stay linear.
 */
export async function parseJsonBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  if (!request.headers.get("Content-Type")?.includes("application/json")) {
    throw json({ error: "Send a JSON body with Content-Type: application/json" }, { status: 415 });
  }
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw json({ error: "The request body is not valid JSON" }, { status: 400 });
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw json({ error: "Invalid request body", fields: parsed.error.flatten().fieldErrors }, { status: 400 });
  return parsed.data;
}

/** Only POST changes state: every other method on an action-only API route gets 405. */
export function requirePost(request: Request) {
  if (request.method !== "POST") throw json({ error: "Method not allowed" }, { status: 405, headers: { Allow: "POST" } });
}
