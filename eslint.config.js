// One lint configuration for every package (each runs `eslint src` through its `lint` task).
// Formatting is prettier's (`prettier --check`); eslint-config-prettier turns off the rules it owns.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const prettier = require('eslint-config-prettier');

module.exports = tseslint.config(
  { ignores: ['**/dist/**', '**/dist-test/**', '**/build/**', '**/node_modules/**', '**/runs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      // Lazy loading of optional or heavy modules (onnxruntime, the native addon, package.json versions).
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      // The project's size limits: a file reads in one sitting, a function on one screen.
      'max-lines': ['error', { max: 450, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests may hold long scenario functions (describe blocks); the file limit still applies.
    files: ['**/*.test.ts', '**/test-utils/**'],
    rules: { 'max-lines-per-function': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
  },
);
