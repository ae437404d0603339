/**
 * `await using client = …` needs `Symbol.asyncDispose` in the types. TypeScript declares it only
 * in `lib: esnext.disposable` (or ES2024 and later), so a published `[Symbol.asyncDispose]()`
 * method broke projects on `lib: ES2022` that check library types (TS2550). Declaring the symbol
 * here, the way `@types/node` does, keeps the published types compiling with or without that lib
 * (identical `unique symbol` declarations merge).
 *
 * The classes reach this file through `implements AsyncDisposableLike`, a type-only import that
 * declaration output keeps and JavaScript output drops: no module is loaded for it at run time,
 * and no bundler is asked to keep a side-effect import in a `sideEffects: false` package.
 */
declare global {
  interface SymbolConstructor {
    readonly asyncDispose: unique symbol;
  }
}

/** An object `await using` can dispose of. */
export interface AsyncDisposableLike {
  [Symbol.asyncDispose](): Promise<void>;
}
