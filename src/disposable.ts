/**
 * `await using client = …` needs `Symbol.asyncDispose` in the types. TypeScript declares it only
 * in `lib: esnext.disposable` (or ES2024+), so a published `[Symbol.asyncDispose]()` method broke
 * projects on `lib: ES2022` that check library types (TS2550). Declaring the symbol here, once, the
 * way `@types/node` does, makes the published types compile with or without that lib: identical
 * `unique symbol` declarations merge. It is type-only: the emitted module is empty, and the files
 * that need it import it for its types, which declaration output keeps.
 */
declare global {
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol;
  }
}

export {};
