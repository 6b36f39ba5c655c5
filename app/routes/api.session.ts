import { json, type ActionFunctionArgs } from "@remix-run/node";
import { createAnnotator } from "~/models/user.server";
import { commitSession, getSession } from "~/session.server";
import { parseJsonBody, requirePost } from "~/utils/api.server";
import { JoinFormSchema } from "~/utils/forms";

/** POST {"displayName"} → creates an annotator and sets the session cookie (the API's /join). */
export async function action({ request }: ActionFunctionArgs) {
  requirePost(request);
  const { displayName } = await parseJsonBody(request, JoinFormSchema.pick({ displayName: true }));
  const user = createAnnotator(displayName);
  const session = await getSession(request);
  session.set("userId", user.id);
  return json({ annotatorId: user.id, displayName: user.displayName }, { status: 201, headers: { "Set-Cookie": await commitSession(session) } });
}
