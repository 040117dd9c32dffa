import { CellbenchError } from "../../protocols/cellbench-error.js";

/** One problem in a profile: where it is (`steps[3].steps[1].limits[0].when`) and what to change. */
export interface ProfileIssue {
  path: string;
  message: string;
}

/** Renders an issue as one line: `steps[2]: "Charge at 1 Q": unknown unit ...`. */
export function formatIssue(issue: ProfileIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/** Most issues one error carries; the rest are counted in a last issue (a hostile profile may have millions). */
export const MAX_ISSUES = 50;
/** Longest message of one issue, characters (longer ones are cut with "…"). */
export const MAX_ISSUE_CHARS = 1000;

function boundIssues(issues: ProfileIssue[]): ProfileIssue[] {
  const cut = (text: string) =>
    text.length > MAX_ISSUE_CHARS ? `${text.slice(0, MAX_ISSUE_CHARS - 1)}…` : text;
  const kept = issues.slice(0, MAX_ISSUES).map((i) => ({ path: cut(i.path), message: cut(i.message) }));
  if (issues.length > MAX_ISSUES)
    kept.push({ path: "", message: `… and ${issues.length - MAX_ISSUES} more issues; fix these first` });
  return kept;
}

/** Every problem found in a profile at once; `message` is the issues, one per line. */
export class ProfileError extends CellbenchError {
  readonly issues: ProfileIssue[];
  /** Where the profile came from (a file name, `POST /api/v1/profiles`, ...). */
  readonly source: string | undefined;

  constructor(issues: ProfileIssue[], source?: string) {
    const kept = boundIssues(issues);
    super("PROFILE_INVALID", kept.map(formatIssue).join("\n"));
    this.issues = kept;
    this.source = source;
  }
}
