/**
 * Who reads the core's messages: the app (its screens, in Electron or browser mode) or a terminal (the
 * CLI). A message names the next step where its reader is: a screen and its control in the app, a command
 * in the terminal. In the app no message names a CLI command, an HTTP method, an API path or a status
 * code; those go to the log.
 */
export type Surface = 'app' | 'cli';

/** The same next step in the app's terms and in the terminal's. */
export interface NextStep {
  app: string;
  cli: string;
}

export const stepFor = (surface: Surface, step: NextStep): string => step[surface];
