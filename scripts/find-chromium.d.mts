// Types of find-chromium.mjs, for the TypeScript tests that import it.
export declare const MISSING: string;
export declare function findChromium(options?: {
  install?: boolean;
  log?: (message: string) => void;
  /** Defaults to process.env (CIRCLE_WS_CHROMIUM, CIRCLE_WS_NO_INSTALL, PATH). */
  env?: Record<string, string | undefined>;
  /** Where to look before PATH; defaults to the usual Debian/Ubuntu paths. */
  systemPaths?: string[];
}): { path: string | null; reason: string | null };
