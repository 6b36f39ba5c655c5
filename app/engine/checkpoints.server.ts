import v8 from "node:v8";
import { eq } from "drizzle-orm";
import type { PolicyState } from "../../bandit/policy";
import { engineCheckpoints } from "../../db/schema";
import { db } from "~/db.server";

// A stopped engine's policy state, kept in SQLite so the engine resumes exactly where it stopped,
// after an eviction or a restart (ADR 0008). One row per study, replaced on every stop.

export interface EngineCheckpoint {
  policy: string;
  featureSource: string;
  /** The arms' prompt ids in arm order. */
  armPromptIds: number[];
  /** Duels (the study's first voteCount decisive or drawn votes) the state was fitted on. */
  voteCount: number;
  state: PolicyState;
}

export function saveCheckpoint(studyId: number, checkpoint: EngineCheckpoint): void {
  const row = {
    policy: checkpoint.policy,
    featureSource: checkpoint.featureSource,
    armPromptIds: checkpoint.armPromptIds,
    voteCount: checkpoint.voteCount,
    state: v8.serialize(checkpoint.state),
    createdAt: new Date(),
  };
  db()
    .insert(engineCheckpoints)
    .values({ studyId, ...row })
    .onConflictDoUpdate({ target: engineCheckpoints.studyId, set: row })
    .run();
}

/** The study's saved engine state, or null (none saved, or unreadable: the engine then learns from the votes). */
export function loadCheckpoint(studyId: number): EngineCheckpoint | null {
  const row = db().select().from(engineCheckpoints).where(eq(engineCheckpoints.studyId, studyId)).get();
  if (!row) return null;
  try {
    return { ...row, state: v8.deserialize(row.state) as PolicyState };
  } catch {
    return null;
  }
}

/** Forgets the study's saved state (it was learned on votes that no longer all exist). */
export function deleteCheckpoint(studyId: number): void {
  db().delete(engineCheckpoints).where(eq(engineCheckpoints.studyId, studyId)).run();
}
