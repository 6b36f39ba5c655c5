import { redirect, type ActionFunctionArgs } from "@remix-run/node";
import { fetchRequestIsHttps } from "~/auth/request-security.server";
import { getActorOrAnonymous } from "~/auth/require.server";
import { clearedSessionCookieHeader } from "~/auth/session.server";
import { signOut } from "~/services/accounts.server";
import { safeRedirect } from "~/utils/safe-redirect";

export function loader() {
  throw new Response("Sign out with POST (the Sign out button).", {
    status: 405,
    headers: { Allow: "POST", "Content-Type": "text/plain; charset=utf-8" },
  });
}

// POST only (a GET never changes state): ends this browser's session, an owner's or an annotator's,
// then goes to `redirectTo` (a same-origin path) or to where that person signs in again.
export async function action({ request }: ActionFunctionArgs) {
  const actor = await getActorOrAnonymous(request);
  if (actor.kind === "user" || actor.kind === "annotator") signOut(actor.sessionId);
  const form = await request.formData();
  return redirect(safeRedirect(form.get("redirectTo"), actor.kind === "annotator" ? "/join" : "/login"), {
    headers: { "Set-Cookie": await clearedSessionCookieHeader(fetchRequestIsHttps(request)) },
  });
}
