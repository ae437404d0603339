// Types of build.mjs, for the TypeScript tests that import it.
import type { Metafile } from 'esbuild';

export declare const ROOT: string;
export declare const BUNDLE: string;
export declare const FULL_ENTRY: string;
export declare const APP_ENTRY: string;
export declare const browserOptions: Readonly<{
  bundle: true;
  format: 'esm';
  platform: 'browser';
  conditions: string[];
  target: string;
  legalComments: 'none';
  logLevel: 'silent';
}>;

export declare function ensureDist(options?: { log?: (message: string) => void }): void;
export declare function gzipSize(code: Uint8Array): number;

export interface BundleOptions {
  entry?: string;
  loader?: 'js' | 'ts' | 'jsx' | 'tsx';
  resolveDir?: string;
  minify?: boolean;
  outfile?: string;
  define?: Record<string, string>;
  jsx?: 'automatic' | 'transform' | 'preserve';
}

export interface Bundle {
  code: Uint8Array;
  text: string;
  metafile: Metafile;
  bytes: number;
  gzipBytes: number;
}

export declare function bundle(options?: BundleOptions): Promise<Bundle>;
export declare function ensureBrowserBundle(options?: { force?: boolean }): Promise<string>;
