// The real-installer test (npm run test:installer): one long run, not in `npm test` or CI.
import { fileURLToPath } from 'node:url';
import base from './jest.config.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const integration = base.projects.find((p) => p.displayName === 'integration');
export default {
  rootDir: root,
  projects: [
    {
      ...integration,
      rootDir: root,
      displayName: 'installer',
      testMatch: ['<rootDir>/test/installer/**/*.test.ts'],
    },
  ],
};
