// Types of examples/financial-texts.mjs (for the TypeScript tests and benchmarks that import it).
/** Passage i: one figure of one made-up company. */
export declare function passage(i: number): string;
/** The question whose answer is passage i's figure. */
export declare function question(i: number): string;
/** Passages 0 … n − 1. */
export declare function passages(n: number): string[];
