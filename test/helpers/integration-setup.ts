// Integration tests run real tools: allow them time (CI runs them on 2 cores).
import { jest } from '@jest/globals';

jest.setTimeout(15 * 60 * 1000);
