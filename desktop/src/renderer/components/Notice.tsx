import type { AppError } from '@revtrail/shared/result';

/** An expected failure, in the core's words (they say what to do next). */
export function ErrorNote({ error }: { error: AppError | null | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-code={error.code}>
      {error.message}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}
