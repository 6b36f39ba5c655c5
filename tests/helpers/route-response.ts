/**
 * What a route's loader or action answers, as the HTTP response Remix would send: a Response as it
 * is (thrown redirects and errors included), a `data(value, init)` as JSON with its status and
 * headers, a plain object as 200 JSON. Lets unit tests call a route function and check the status.
 */
export async function routeResponse(run: () => Promise<unknown>): Promise<Response> {
  let result: unknown;
  try {
    result = await run();
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
  if (result instanceof Response) return result;
  if (isDataWithResponseInit(result)) return Response.json(result.data, result.init ?? undefined);
  return Response.json(result);
}

interface DataWithResponseInit {
  type: "DataWithResponseInit";
  data: unknown;
  init: ResponseInit | null;
}

function isDataWithResponseInit(value: unknown): value is DataWithResponseInit {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "DataWithResponseInit";
}
