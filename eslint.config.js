// One lint gate for every workspace: typescript-eslint's type-aware recommended rules (floating
// promises, unsafe any), with formatting left to Prettier (`eslint-config-prettier` turns off the
// rules the two would fight over).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/cdk.out/**',
      '**/.data/**',
      '**/.cache/**',
      '**/.tap/**',
      '**/coverage/**',
      'loadtest/reports/**',
      'test-artifacts/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_`-prefixed parameters are deliberately unused (a handler's signature, a callback's slot).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Fastify tells promise-style plugins, hooks and handlers from callback-style ones by their
      // returning a promise: an `async` function without `await` is the framework's idiom (so is
      // tap's `async (t) => …`), not a mistake. Floating and misused promises stay errors.
      '@typescript-eslint/require-await': 'off',
      // Conditions and operands whose value the code fixes: `hit ?? 0 > 0` reads as `hit ?? false`.
      // Both are in `js.configs.recommended`; the relational check is off by default there, and it
      // is what catches a comparison of two literals. `while (true)` stays allowed.
      'no-constant-binary-expression': ['error', { checkRelationalComparisons: true }],
      'no-constant-condition': ['error', { checkLoops: 'allExceptWhileTrue' }],
    },
  },
  {
    files: ['**/test/**/*.ts'],
    rules: {
      // tap's subtests are queued by `t.test()` itself and awaited by the runner; every other
      // promise in a test must still be awaited.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'rejects', 'resolves', 'resolveMatch'], package: '@tapjs/test' },
          ],
        },
      ],
    },
  },
  {
    // Plain JavaScript (build scripts, test fixtures run by the local Lambda): no type information.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.node },
    },
  },
  prettier,
);
