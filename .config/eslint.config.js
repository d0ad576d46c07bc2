// One lint configuration for the whole repository (npm run lint).
// It lives here so that the top level holds only the files the project layout names.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/out/**', '**/.sst/**', '**/coverage/**', '**/bench/results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // shared/ is pure: no Node built-ins, no platform SDKs (see ../shared/STYLE.md).
    files: ['shared/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'os'], message: 'shared/ must stay pure: no Node built-ins.' },
            { group: ['electron', '@aws-sdk/*', 'better-sqlite3'], message: 'shared/ must stay platform-free.' },
          ],
        },
      ],
    },
  },
  {
    // The renderer runs in a browser (Electron's sandboxed renderer or browser mode): browser globals, no Node.
    files: ['desktop/src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname'],
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'electron', 'better-sqlite3'], message: 'The renderer reaches the core only through rpc.ts.' }] }],
    },
  },
  {
    // The pixel runs in visitors' browsers: browser globals, plain ES2017, no Node.
    files: ['redirector/src/pixel/**/*.js'],
    languageOptions: { ecmaVersion: 2017, sourceType: 'script', globals: { ...globals.browser } },
  },
);
