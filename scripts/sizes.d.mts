// Types of sizes.mjs, for the TypeScript test that imports it.
export interface SizeRow {
  label: string;
  minified: number;
  gzipped: number;
}
export declare const GZIP_TOLERANCE: number;
export declare const ROWS: ReadonlyArray<{ label: string; entry: string }>;
export declare function measure(): Promise<SizeRow[]>;
export declare function render(rows: readonly SizeRow[]): string;
export declare function parse(table: string): SizeRow[] | null;
export declare function staleness(written: readonly SizeRow[] | null, measured: readonly SizeRow[]): string[];
