import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { embedText } from "../../bandit/lexical-embedding";
import type { AnnotatedDuel } from "../../bandit/served";
import { assignmentIsCounted, assignmentIsOpen, assignments, promptInSelection, prompts, voteIsCounted, votePublished, votes } from "../../db/schema";
import { db, prepared } from "~/db.server";
import { decodeEmbedding } from "~/llm/embeddings.server";
import { voteDuel } from "~/models/vote-duel";

// What a study's engine learns from, read from SQLite (votes + prompt embeddings are the only truth):
// the arms (prompts with their features, in the order they joined) and the vote history as duels,
// both read incrementally, and the pairs handed out but not answered yet.

interface PromptRow {
  id: number;
  text: string;
  embedding: Buffer | null;
  embeddingModel: string | null;
  inSelection: number;
}

/** Which features a study's engine uses: the stored embeddings of one model, or the offline lexical embedder. */
export type FeatureSource = { kind: "stored"; model: string } | { kind: "lexical" };

function chooseFeatureSource(rows: PromptRow[]): FeatureSource {
  const model = rows[0]?.embeddingModel;
  if (model && rows.every((row) => row.embedding && row.embeddingModel === model)) return { kind: "stored", model };
  return { kind: "lexical" };
}

function featuresOf(row: PromptRow, source: FeatureSource): Float64Array | null {
  if (source.kind === "lexical") return embedText(row.text);
  return row.embedding && row.embeddingModel === source.model ? Float64Array.from(decodeEmbedding(row.embedding)) : null;
}

/** The feature source as one string, to tell whether a saved engine state was learned on the same features. */
export function featureSourceKey(source: FeatureSource): string {
  return source.kind === "lexical" ? "lexical" : `stored:${source.model}`;
}

// Votes read per statement when an engine loads: a 100,000-vote study is read in slices between
// which requests run, instead of one read that holds the request thread for a quarter second.
const LOAD_SLICE_VOTES = 5_000;

export class StudyHistoryFeed {
  readonly armPromptIds: number[] = [];
  /** The counted votes in id order, each with its annotator (the engine weighs them by reliability: ADR 0044). */
  readonly duels: AnnotatedDuel[] = [];
  readonly featureSource: FeatureSource;
  private readonly armOfPrompt = new Map<number, number>();
  private readonly waitingForEmbedding = new Set<number>();
  private lastPromptId = 0;
  private lastVoteId = 0;
  private initialFeatures: Float64Array[];
  /** Per arm, 1 while its prompt is in selection (enabled and not retired), as last read. */
  private inSelectionFlags: number[] = [];
  private newArmFlags: number[] = [];

  /**
   * Reads every prompt of the study. `armOrder` (prompt ids) makes those prompts the first arms in
   * that order, as a saved engine state had them; the others follow by id.
   */
  constructor(
    readonly studyId: number,
    armOrder: readonly number[] = [],
  ) {
    const rows = this.promptRows();
    this.featureSource = chooseFeatureSource(rows);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const first = new Set(armOrder);
    const ordered = [...armOrder.flatMap((id) => byId.get(id) ?? []), ...rows.filter((row) => !first.has(row.id))];
    this.initialFeatures = this.claimArms(ordered);
  }

  /** The features of the arms known at construction (once: the engine's init message). */
  takeInitialFeatures(): { features: Float64Array[]; inSelection: Uint8Array } {
    const features = this.initialFeatures;
    this.initialFeatures = [];
    this.newArmFlags = [];
    return { features, inSelection: Uint8Array.from(this.inSelectionFlags) };
  }

  /** Prompts that became arms since the last call (new prompts, or embeddings that arrived), with their features and selection flags. */
  newArms(): { features: Float64Array[]; inSelection: Uint8Array } {
    const features = this.claimArms(this.promptRows());
    const inSelection = Uint8Array.from(this.newArmFlags);
    this.newArmFlags = [];
    return { features, inSelection };
  }

  /** Whether the arm was in selection when the flags were last read (readSelection). */
  inSelection(arm: number): boolean {
    return this.inSelectionFlags[arm] === 1;
  }

  /**
   * Reads again which arms are in selection (after an owner enabled or disabled a prompt, or the rule retired or an
   * owner restored one); null when nothing changed. Cost: one read of the study's prompt flags.
   */
  readSelection(): Uint8Array | null {
    const rows = db()
      .select({ id: prompts.id, inSelection: sql<number>`${promptInSelection}` })
      .from(prompts)
      .where(eq(prompts.studyId, this.studyId))
      .all();
    let changed = false;
    for (const row of rows) {
      const arm = this.armOfPrompt.get(row.id);
      if (arm === undefined || this.inSelectionFlags[arm] === row.inSelection) continue;
      this.inSelectionFlags[arm] = row.inSelection;
      changed = true;
    }
    return changed ? Uint8Array.from(this.inSelectionFlags) : null;
  }

  /**
   * Reads the votes committed since the last read into `duels`; returns how many duels were added.
   * Audit votes (a re-judgement of an item, sides swapped: ADR 0034) and votes of an annotator the owner excluded are passed over (excluding or reinstating one discards
   * the engine, which then reads the history again as it is: ADR 0025).
   */
  readVotes(limit = Number.MAX_SAFE_INTEGER): number {
    const rows = prepared("engine.newVotes", (database) =>
      database
        .select({
          id: votes.id,
          annotatorId: votes.annotatorId,
          promptAId: assignments.promptAId,
          promptBId: assignments.promptBId,
          leftIsA: assignments.leftIsA,
          choice: votes.choice,
          published: sql<number>`${votePublished}`,
        })
        .from(votes)
        .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
        .where(and(eq(votes.studyId, sql.placeholder("studyId")), gt(votes.id, sql.placeholder("afterId")), voteIsCounted, assignmentIsCounted))
        .orderBy(asc(votes.id))
        .limit(sql.placeholder("limit"))
        .prepare(),
    ).all({ studyId: this.studyId, afterId: this.lastVoteId, limit });
    const before = this.duels.length;
    for (const row of rows) {
      // A vote an import is still writing (ADR 0036) is read, with every vote after it, once the
      // import is published (or cleaned up): the engine never passes over one.
      if (!row.published) break;
      const duel = voteDuel(row);
      if (duel) {
        const left = this.armOfPrompt.get(duel.left);
        const right = this.armOfPrompt.get(duel.right);
        // A vote naming a prompt that is not an arm yet (its embedding is still being computed) is
        // read again on a later call instead of being lost; so is every vote after it.
        if (left === undefined || right === undefined) break;
        this.duels.push({ a: left, b: right, outcome: duel.outcome, annotator: row.annotatorId });
      }
      this.lastVoteId = row.id;
    }
    return this.duels.length - before;
  }

  /** Reads every committed vote, a slice at a time, letting requests run in between. */
  async readAllVotes(): Promise<void> {
    for (;;) {
      const lastBefore = this.lastVoteId;
      this.readVotes(LOAD_SLICE_VOTES);
      if (this.lastVoteId === lastBefore) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Open, unexpired assignments as arm pairs: the policy spreads its next pairs around them. */
  pendingPairs(): [number, number][] {
    const open = db()
      .select({ promptAId: assignments.promptAId, promptBId: assignments.promptBId })
      .from(assignments)
      .where(and(eq(assignments.studyId, this.studyId), assignmentIsOpen, gt(assignments.expiresAt, new Date())))
      .all();
    const pairs: [number, number][] = [];
    for (const { promptAId, promptBId } of open) {
      const a = this.armOfPrompt.get(promptAId);
      const b = this.armOfPrompt.get(promptBId);
      if (a !== undefined && b !== undefined) pairs.push([a, b]);
    }
    return pairs;
  }

  /**
   * Prompts the engine may not have as arms yet: every prompt on the first call, afterwards only
   * newer ones and those still waiting for an embedding (so a refit does not re-read the pool).
   */
  private promptRows(): PromptRow[] {
    const columns = {
      id: prompts.id,
      text: prompts.text,
      embedding: prompts.embedding,
      embeddingModel: prompts.embeddingModel,
      inSelection: sql<number>`${promptInSelection}`,
    };
    const newer = db()
      .select(columns)
      .from(prompts)
      .where(and(eq(prompts.studyId, this.studyId), gt(prompts.id, this.lastPromptId)))
      .orderBy(asc(prompts.id))
      .all();
    const waiting =
      this.waitingForEmbedding.size > 0
        ? db()
            .select(columns)
            .from(prompts)
            .where(inArray(prompts.id, [...this.waitingForEmbedding]))
            .orderBy(asc(prompts.id))
            .all()
        : [];
    for (const row of newer) this.lastPromptId = Math.max(this.lastPromptId, row.id);
    return [...waiting, ...newer];
  }

  /** Registers prompts the engine has not seen yet as new arms (growing pool) and returns their features. */
  private claimArms(rows: PromptRow[]): Float64Array[] {
    const features: Float64Array[] = [];
    for (const row of rows) {
      if (this.armOfPrompt.has(row.id)) continue;
      const vector = featuresOf(row, this.featureSource);
      // A prompt whose embedding is not computed yet joins on a later update.
      if (!vector) {
        this.waitingForEmbedding.add(row.id);
        continue;
      }
      this.waitingForEmbedding.delete(row.id);
      this.armOfPrompt.set(row.id, this.armPromptIds.length);
      this.armPromptIds.push(row.id);
      this.inSelectionFlags.push(row.inSelection === 1 ? 1 : 0);
      this.newArmFlags.push(row.inSelection === 1 ? 1 : 0);
      features.push(vector);
    }
    return features;
  }
}
