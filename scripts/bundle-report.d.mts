// Types of bundle-report.mjs, for the TypeScript tests that import it.
export interface ShareRow {
  minified: number;
  gzipped: number;
}
export interface BundleReport {
  minified: number;
  gzipped: number;
  declarations?: Array<ShareRow & { name: string }>;
  dependencies: ShareRow & { entry: string };
  own: ShareRow;
  modules: Array<ShareRow & { path: string }>;
  packages: Array<ShareRow & { name: string }>;
}
export declare function isOwn(path: string): boolean;
export declare function packageOf(path: string): string;
export declare function dependencyEntry(entry: string, metafile: import('esbuild').Metafile): Promise<string>;
export declare function bundleReport(entry?: string, options?: { detail?: string }): Promise<BundleReport>;
export declare function renderReport(report: BundleReport): string;
export declare function viteReport(entry?: string): Promise<{ minified: number; gzipped: number; modules: string[] }>;
