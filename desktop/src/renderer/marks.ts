/** The mark the UI benchmark (bench/ui.ts) measures to: the dashboard's first paint with report data. */
export const DATA_RENDERED_MARK = 'revtrail:dashboard-data';
