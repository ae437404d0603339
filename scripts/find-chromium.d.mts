// Types of find-chromium.mjs, for the TypeScript tests that import it.
export declare const MISSING: string;
export declare function findChromium(options?: { install?: boolean; log?: (message: string) => void }): { path: string | null; reason: string | null };
