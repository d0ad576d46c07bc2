/** A moment as the CLI prints it: UTC to the second, or "never". */
export const when = (at: number | null): string => (at === null ? 'never' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'));
