import { Form, useRevalidator } from "@remix-run/react";
import { useEffect, type ReactNode } from "react";
import type { JobView } from "~/jobs/job-view.server";

const POLL_MS = 1_000;

const STATE_LABELS: Record<JobView["state"], string> = {
  awaiting_confirmation: "Waiting for your confirmation",
  queued: "Queued",
  running: "Running",
  succeeded: "Done",
  failed: "Failed",
};

/** Reloads the page's data every second while one of `jobs` still has work ahead (the owner watches it progress). */
export function usePollWhileJobsRun(jobs: readonly JobView[]): void {
  const revalidator = useRevalidator();
  const active = jobs.some((job) => job.state === "queued" || job.state === "running");
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible" && revalidator.state === "idle") revalidator.revalidate();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [active, revalidator]);
}

/**
 * One background job as the owner sees it: what it is, its state and progress, what it found wrong,
 * what it did; and, when it waits for a yes, the figures to confirm with Confirm / Cancel buttons
 * (posted to the page's own action as intent confirm-job / cancel-job), or Retry when it can run again.
 */
export function JobStatus({
  job,
  title,
  describeResult,
}: {
  job: JobView;
  title: string;
  describeResult: (result: Record<string, unknown>) => ReactNode;
}) {
  const percent = job.progressTotal > 0 ? Math.min(100, Math.floor((100 * job.progressDone) / job.progressTotal)) : null;
  return (
    <section className={`job job-${job.state}`} aria-label={`${title} #${job.id}`}>
      <p className="job-title">
        <strong>{title}</strong> <span className="muted">#{job.id}</span> · <span role="status">{STATE_LABELS[job.state]}</span>
        {job.state === "running" && job.phase ? ` · ${job.phase}${percent !== null ? ` ${percent}%` : ""}` : null}
        {job.attempts > 1 && job.state !== "succeeded" ? <span className="muted"> (attempt {job.attempts})</span> : null}
      </p>
      {job.state === "running" && percent !== null ? (
        <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-label={`${title} progress`}>
          {/* SVG geometry rather than a style attribute, which the CSP (style-src 'self') refuses. */}
          <svg className="progress-bars" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">
            <rect className="progress-ready" width={percent} height={1} />
          </svg>
        </div>
      ) : null}
      {job.state === "awaiting_confirmation" && job.confirmation ? (
        <div className="job-confirm">
          <p>{job.confirmation}</p>
          <Form method="post" className="inline-form">
            <input type="hidden" name="jobId" value={job.id} />
            <button type="submit" name="intent" value="confirm-job" className="primary">
              Confirm
            </button>{" "}
            <button type="submit" name="intent" value="cancel-job">
              Cancel
            </button>
          </Form>
        </div>
      ) : null}
      {job.state === "succeeded" && job.result ? <p className="notice">{describeResult(job.result)}</p> : null}
      {job.state === "failed" ? (
        <div className="import-errors" role="alert">
          <p>Nothing was written:</p>
          <ul>
            {job.errors.map((error) => (
              <li key={error}>{error}</li>
            ))}
          </ul>
          {job.retryable ? (
            <Form method="post" className="inline-form">
              <input type="hidden" name="jobId" value={job.id} />
              <button type="submit" name="intent" value="retry-job">
                Retry
              </button>
            </Form>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
