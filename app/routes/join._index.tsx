import type { MetaFunction } from "@remix-run/node";
import { Link } from "@remix-run/react";
import { GeneralErrorBoundary } from "~/components/error-boundary";

export const meta: MetaFunction = () => [{ title: "Join · promptduel" }];

// Where a signed-out annotator lands: joining needs a study's invite link (/join/<token>).
export default function JoinWithoutLink() {
  return (
    <section className="narrow">
      <h1>Join a study</h1>
      <p>
        To annotate, open the invite link the study&apos;s owner gave you. It looks like https://…/join/… and asks for the name to show with your
        votes.
      </p>
      <p className="muted">
        Study owners, editors and viewers <Link to="/login">sign in</Link>.
      </p>
    </section>
  );
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
