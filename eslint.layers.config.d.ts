// Types of eslint.layers.config.js, for the test that proves the layering rule bites.
import type { Linter } from 'eslint';

/** Each folder of src/ and the folders it may import. */
export declare const LAYERS: Readonly<Record<string, readonly string[]>>;
/** One flat-config entry per folder of src/, with its `no-restricted-imports` rule. */
export declare function layerConfigs(): Linter.Config[];
