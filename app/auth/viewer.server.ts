import type { Viewer } from "~/components/site-header";
import { getActorOrAnonymous } from "./require.server";

/** The signed-in person as the layout shows them (name only); API tokens and visitors show nothing. */
export async function viewerOf(request: Request): Promise<Viewer> {
  const actor = await getActorOrAnonymous(request);
  if (actor.kind === "user") return { kind: "user", displayName: actor.user.displayName, email: actor.user.email };
  if (actor.kind === "annotator") return { kind: "annotator", displayName: actor.annotator.displayName };
  return null;
}
