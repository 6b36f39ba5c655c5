import { Form, useFetcher, useRevalidator } from "@remix-run/react";
import { useEffect, useRef } from "react";
import type { GenerationStatus } from "~/llm/runtime.server";

const POLL_MS = 1_000;

/** Work the worker has yet to do: pending responses or variant requests that have not failed. */
function isActive(status: GenerationStatus): boolean {
  return status.responses.pending > 0 || status.variantRequests.some((request) => request.error === null);
}

/** 0–100; never 100 while variants are still being written, since their responses are not queued yet. */
function percentDone(status: GenerationStatus): number {
  const { total, ready } = status.responses;
  const percent = total === 0 ? 0 : Math.floor((100 * ready) / total);
  return status.variantRequests.some((request) => request.error === null) ? Math.min(percent, 99) : percent;
}

function formatUsd(amount: number): string {
  if (amount === 0) return "$0";
  return amount < 0.01 ? `$${amount.toFixed(5)}` : `$${amount.toFixed(2)}`;
}

/**
 * The owner's live view of generation: a bar (ready and failed shares), counts, tokens and cost. While
 * work is pending it polls the JSON status route every second.
 */
export function GenerationProgress({ studyId, initial }: { studyId: number; initial: GenerationStatus }) {
  const fetcher = useFetcher<GenerationStatus>();
  const revalidator = useRevalidator();
  // The newer of the page's loader data (fresh after an action) and the last poll.
  const status = fetcher.data && fetcher.data.at > initial.at ? fetcher.data : initial;
  const active = isActive(status);
  const online = status.provider !== null;

  // The fetcher object changes on every render; the interval reads the current one through a ref.
  const fetcherRef = useRef(fetcher);
  useEffect(() => {
    fetcherRef.current = fetcher;
  });
  useEffect(() => {
    // Offline, nothing changes without an action of the owner's, which reloads the page anyway.
    if (!active || !online) return;
    const timer = setInterval(() => {
      if (fetcherRef.current.state === "idle") fetcherRef.current.load(`/studies/${studyId}/generation`);
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [active, online, studyId]);

  // A poll that sees new responses (variants arrived) or the end of the work refreshes the page's lists.
  const polled = fetcher.data;
  const pageIsBehind =
    polled !== undefined && polled.at > initial.at && (polled.responses.total !== initial.responses.total || isActive(polled) !== isActive(initial));
  useEffect(() => {
    if (pageIsBehind && revalidator.state === "idle") revalidator.revalidate();
  }, [pageIsBehind, revalidator]);

  const { total, ready, pending, failed, promptTokens, completionTokens, costUsd, unpriced } = status.responses;
  const percent = percentDone(status);
  const share = (n: number) => (total === 0 ? 0 : (100 * n) / total);
  const generatingVariants = status.variantRequests.filter((request) => request.error === null);
  const failedVariants = status.variantRequests.filter((request) => request.error !== null);

  return (
    <section className="generation" aria-labelledby="generation-heading">
      <div className="title-row">
        <h2 id="generation-heading">Responses</h2>
        <span className="muted" aria-live="polite">
          {active
            ? status.provider
              ? "Generating…"
              : "Waiting: no LLM provider configured"
            : total > 0 && failed === 0
              ? "All responses ready"
              : null}
        </span>
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-label="Responses ready"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={`${percent}% (${ready} of ${total} ready)`}
      >
        {/* SVG geometry rather than style attributes, which the CSP (style-src 'self') refuses. */}
        <svg className="progress-bars" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">
          <rect className="progress-ready" width={share(ready)} height={1} />
          <rect className="progress-failed" x={share(ready)} width={share(failed)} height={1} />
        </svg>
        <span className="progress-label">{percent}%</span>
      </div>
      <dl className="counts">
        <div>
          <dt>Done</dt>
          <dd>
            {ready} / {total}
          </dd>
        </div>
        <div>
          <dt>Pending</dt>
          <dd>{pending}</dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd className={failed > 0 ? "danger" : undefined}>{failed}</dd>
        </div>
        <div>
          <dt>Tokens in / out</dt>
          <dd>
            {promptTokens.toLocaleString("en-US")} / {completionTokens.toLocaleString("en-US")}
          </dd>
        </div>
        <div>
          <dt>Estimated cost</dt>
          <dd>
            {unpriced > 0 && costUsd === 0 ? "unknown" : formatUsd(costUsd)}
            {unpriced > 0 ? (
              <small className="muted cost-note">
                {costUsd > 0 ? ` + ${unpriced} responses of unknown cost: ` : " "}cost unknown for model {status.model ?? "?"} (set OPENAI_PRICES)
              </small>
            ) : null}
          </dd>
        </div>
      </dl>
      {generatingVariants.map((request) => (
        <p key={request.seedPromptId} className="muted">
          Writing {request.count} variant{request.count === 1 ? "" : "s"} of prompt #{request.seedPromptId}…
        </p>
      ))}
      {failedVariants.length > 0 || status.failures.length > 0 ? (
        <div className="failures" role="alert">
          <h3>Failures</h3>
          <ul>
            {failedVariants.map((request) => (
              <li key={`variants-${request.seedPromptId}`}>
                Variants of prompt #{request.seedPromptId}: {request.error}
              </li>
            ))}
            {status.failures.map((failure) => (
              <li key={failure.id}>
                Prompt #{failure.promptId} × “{failure.query.length > 60 ? `${failure.query.slice(0, 57)}…` : failure.query}” (attempt{" "}
                {failure.attempts}): {failure.error}
              </li>
            ))}
          </ul>
          <Form method="post">
            <button type="submit" name="intent" value="retry-failed">
              Retry failed
            </button>
          </Form>
        </div>
      ) : null}
    </section>
  );
}
