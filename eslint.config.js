import { readdirSync, readFileSync } from "node:fs";

import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Module boundaries of the server, read from the code itself: each module
 * declares the tables it owns in `server/modules/<m>/tables.ts`, and only that
 * module may import them or name them in SQL. Everyone else asks the owner's
 * service (which may export a SQL fragment, e.g. `kyc.verifiedCondition`).
 */
const modulesDir = "server/modules";
const tablesOf = Object.fromEntries(
  readdirSync(modulesDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      let source = "";
      try {
        source = readFileSync(`${modulesDir}/${entry.name}/tables.ts`, "utf8");
      } catch {
        // A module without tables owns none.
      }
      return [entry.name, [...source.matchAll(/pgTable\(\s*"([a-z_]+)"/g)].map((m) => m[1])];
    }),
);
const moduleNames = Object.keys(tablesOf);

/** The lint rules that keep `owner`'s files (null: server code outside every module) off other modules' tables. */
function boundaryRules(owner) {
  const others = moduleNames.filter((name) => name !== owner);
  const foreignTables = others.flatMap((name) => tablesOf[name]);
  return {
    "@typescript-eslint/no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            regex: `(^|/)(${others.join("|")})/tables(\\.js)?$`,
            message: "A module reads only its own tables; ask the owning module's service instead.",
          },
          ...(owner === null
            ? []
            : [
                {
                  regex: "(^|/)db/schema(\\.js)?$",
                  message: "Import this module's own tables from ./tables.js; other modules' tables are theirs.",
                },
              ]),
        ],
      },
    ],
    "no-restricted-syntax": [
      "error",
      ...(foreignTables.length === 0
        ? []
        : [
            {
              selector: `TaggedTemplateExpression[tag.name="sql"] TemplateElement[value.raw=/\\b(${foreignTables.join("|")})\\b/]`,
              message: "This SQL names another module's table; ask the owning module's service instead.",
            },
          ]),
    ],
  };
}

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "coverage/",
      "dist/",
      "types/",
      "ignition/deployments/",
      ".data/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
    },
  },
  ...moduleNames.map((name) => ({
    files: [`${modulesDir}/${name}/**/*.ts`],
    ignores: [`${modulesDir}/${name}/tables.ts`],
    rules: boundaryRules(name),
  })),
  {
    // Server code outside the modules (HTTP host, metrics, composition root) goes through services too.
    files: ["server/**/*.ts"],
    ignores: [`${modulesDir}/**`, "server/db/**", "server/demo/**"],
    rules: boundaryRules(null),
  },
  {
    // Functions a reader can hold in their head.
    files: ["server/**/*.ts"],
    rules: { "max-lines-per-function": ["error", { max: 120, skipBlankLines: true, skipComments: true }] },
  },
  {
    // Plain JavaScript files are Node scripts.
    files: ["**/*.{js,mjs}"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
  {
    // The web app talks to the server only through tRPC; it may import the
    // router's type, never server code.
    files: ["web/**/*.{ts,tsx}"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/server/**", "**/server"],
              allowTypeImports: true,
              message: "web/ may only `import type` from server/ (e.g. `import type { AppRouter }`).",
            },
          ],
        },
      ],
    },
  },
);
