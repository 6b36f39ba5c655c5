import { actorLabel } from "~/auth/actor.server";
import { assertPermission, ownerSideActor, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { saveAutoRoundsSettings, type AutoRoundsSettings } from "~/llm/auto-rounds.server";
import { providerConfig } from "~/llm/runtime.server";
import { auditStudy } from "./audit.server";

// The owner's side of automatic rounds (issue 17 §3, ADR 0033): turning them on or off and setting their budgets.
// The rounds themselves are queued after engine snapshots (app/llm/auto-rounds.server.ts).

/**
 * Saves the study's automatic-round settings (blank "every": off) and clears a previous stop. Turning them on lets
 * the app spend on the provider without a click per round, so only a person signed in to the study may do it (as
 * only a person confirms a cost: issue 14), and only with a provider configured. Returns an error message, or null.
 */
export function updateAutoRoundsAs(access: StudyAccess, settings: AutoRoundsSettings): string | null {
  assertPermission(access, "study:edit");
  if (settings.autoRoundEvery !== null) {
    if (access.actor.kind === "token")
      return "An API token cannot turn automatic rounds on: a person signed in to the study does it on the setup page.";
    if (!providerConfig()) return "Automatic rounds ask an LLM for new prompts: configure a provider (OPENAI_BASE_URL, OPENAI_API_KEY) first.";
  }
  const actor = ownerSideActor(access);
  db().transaction((tx) => {
    saveAutoRoundsSettings(tx, access.studyId, settings, {
      userId: actor.kind === "user" ? actor.user.id : actor.token.userId,
      tokenId: actor.kind === "token" ? actor.token.id : null,
      label: actorLabel(actor),
    });
    auditStudy(tx, access, "study.auto_rounds_changed", { ...settings });
  });
  return null;
}
