export declare const repoRoot: string;
export declare const bgeDir: string;
export declare const bgeTokenizerJson: string;
export declare const xlmrTokenizerDir: string;
export declare const xlmrTokenizerJson: string;
export declare const FINANCIAL_QA_SHA256: string;
export declare function dataDir(): string;
export declare function financialQaCsv(): string;
