// The owner's lineage view (issue 17 §1): which prompt came from which parent in which growth round, how each did in
// the votes, and which left selection and why (disabled by an owner, or retired by the rule with its figures).

interface LineagePrompt {
  id: number;
  label: string | null;
  text: string;
  active: boolean;
  retiredAt: Date | string | null;
  retirement: {
    rule: "ruled-out" | "pool-cap";
    comparisons: number;
    score: number;
    upper: number;
    leaderPromptId: number;
    leaderLower: number;
    margin: number;
    poolCap: number | null;
    voteCount: number;
  } | null;
  keptByOwner: boolean;
  parentIds: number[];
  generation: number;
  growthRoundId: number | null;
  wins: number;
  losses: number;
  ties: number;
  bothBad: number;
}

interface LineageRound {
  id: number;
  state: string;
  count: number;
  model: string;
  parents: { promptId: number; rank: number; wins: number; losses: number; ties: number; bothBad: number }[];
  instruction: string;
  system: string;
  error: string | null;
  result: { added: number[]; duplicates: number; failures: number } | null;
}

function retirementReason(prompt: LineagePrompt): string {
  const figures = prompt.retirement;
  if (!figures) return "";
  const at = `after ${figures.comparisons} comparisons (${figures.voteCount} votes in the study)`;
  if (figures.rule === "pool-cap")
    return `pool over its cap of ${figures.poolCap}: the weakest measured prompt, upper bound ${figures.upper.toFixed(2)}, ${at}`;
  return `upper bound ${figures.upper.toFixed(2)} below leader #${figures.leaderPromptId}'s lower bound ${figures.leaderLower.toFixed(2)} by more than ${figures.margin}, ${at}`;
}

function status(prompt: LineagePrompt): string {
  if (!prompt.active) return "disabled";
  if (prompt.retiredAt !== null) return `retired: ${retirementReason(prompt)}`;
  if (prompt.keptByOwner) return `in selection (brought back; was retired: ${retirementReason(prompt)})`;
  return "in selection";
}

export function LineageView({ prompts, rounds }: { prompts: LineagePrompt[]; rounds: LineageRound[] }) {
  const grown = prompts.filter((prompt) => prompt.growthRoundId !== null || prompt.parentIds.length > 0);
  const shown = prompts.filter((prompt) => grown.includes(prompt) || grown.some((child) => child.parentIds.includes(prompt.id)) || prompt.retirement);
  return (
    <section aria-labelledby="lineage-heading">
      <h2 id="lineage-heading">Lineage and retirement</h2>
      {shown.length === 0 ? (
        <p className="muted">No prompt has been grown or retired yet.</p>
      ) : (
        <table className="data-table" aria-label="Lineage">
          <thead>
            <tr>
              <th>#</th>
              <th>Parent</th>
              <th>Generation</th>
              <th>Round</th>
              <th>Record (W–L–T, both bad)</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((prompt) => (
              <tr key={prompt.id} data-prompt-id={prompt.id}>
                <td title={prompt.text}>
                  {prompt.id}
                  {prompt.label ? ` ${prompt.label}` : ""}
                </td>
                <td>{prompt.parentIds.length > 0 ? prompt.parentIds.map((id) => `#${id}`).join(", ") : "–"}</td>
                <td>{prompt.generation}</td>
                <td>{prompt.growthRoundId === null ? "–" : `#${prompt.growthRoundId}`}</td>
                <td>
                  {prompt.wins}–{prompt.losses}–{prompt.ties}, {prompt.bothBad}
                </td>
                <td>{status(prompt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rounds.length > 0 ? (
        <>
          <h3>Growth rounds</h3>
          <ul className="growth-rounds">
            {rounds.map((round) => (
              <li key={round.id} data-round-id={round.id}>
                <strong>Round #{round.id}</strong> ({round.state}): {round.count} asked of {round.model} from{" "}
                {round.parents
                  .map((parent) => `#${parent.promptId} (rank ${parent.rank}, ${parent.wins}–${parent.losses}–${parent.ties})`)
                  .join(", ")}
                {round.result
                  ? `; ${round.result.added.length} added${round.result.added.length > 0 ? ` (#${round.result.added.join(", #")})` : ""}, ${round.result.duplicates} duplicates dropped, ${round.result.failures} calls failed`
                  : ""}
                {round.error ? <span className="field-error"> {round.error}</span> : null}
                <details>
                  <summary>Instruction sent</summary>
                  <pre className="instruction">{`${round.system}\n\n${round.instruction}`}</pre>
                </details>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
