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

/** Every problem found in a profile at once; `message` is the issues, one per line. */
export class ProfileError extends CellbenchError {
  readonly issues: ProfileIssue[];
  /** Where the profile came from (a file name, `POST /api/v1/profiles`, ...). */
  readonly source: string | undefined;

  constructor(issues: ProfileIssue[], source?: string) {
    super("PROFILE_INVALID", issues.map(formatIssue).join("\n"));
    this.issues = issues;
    this.source = source;
  }
}
