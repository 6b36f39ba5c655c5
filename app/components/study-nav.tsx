import { NavLink } from "@remix-run/react";
import type { StudyPermission } from "~/auth/permissions";

const PAGES: { path: string; label: string; permission: StudyPermission; end?: boolean }[] = [
  { path: "", label: "Dashboard", permission: "study:read", end: true },
  { path: "/annotate", label: "Annotate", permission: "study:annotate" },
  { path: "/responses", label: "Responses", permission: "study:read" },
  { path: "/where-leader-loses", label: "Where the leader loses", permission: "study:read" },
  { path: "/setup", label: "Setup & generation", permission: "study:edit" },
  { path: "/export", label: "Export", permission: "study:export" },
  { path: "/annotators", label: "Annotators & links", permission: "study:manage" },
  { path: "/quality", label: "Annotator quality", permission: "study:manage" },
  { path: "/judge", label: "LLM judge", permission: "study:manage" },
  { path: "/members", label: "Members", permission: "study:manage" },
  { path: "/tokens", label: "API tokens", permission: "study:manage" },
  { path: "/audit", label: "Audit log", permission: "study:manage" },
];

/** The study's pages a member may open (by their permissions); never rendered for annotators. */
export function StudyNav({ studyId, permissions }: { studyId: number; permissions: readonly StudyPermission[] }) {
  const granted = new Set(permissions);
  return (
    <nav className="study-nav" aria-label="Study">
      {PAGES.filter((page) => granted.has(page.permission)).map((page) => (
        <NavLink key={page.path} to={`/studies/${studyId}${page.path}`} end={page.end}>
          {page.label}
        </NavLink>
      ))}
    </nav>
  );
}
