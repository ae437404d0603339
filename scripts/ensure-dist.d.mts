// Types of ensure-dist.mjs, for the TypeScript tests that import it.
export declare const ROOT: string;
export declare function ensureDist(options?: { log?: (message: string) => void }): void;
