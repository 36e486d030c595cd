// The local cloud's EC2 dispatch table: the actions it implements, in the order its
// InvalidAction message lists them (clients and docs quote that message).
import { expect, test } from '@jest/globals';
import { EC2_ACTIONS } from '../../../src/local-cloud/ec2-actions.js';

test('EC2_ACTIONS names the four image actions in the order InvalidAction lists them', () => {
  expect([...EC2_ACTIONS.keys()].join(', ')).toBe(
    'RegisterImage, DescribeImages, DeregisterImage, ModifyImageAttribute',
  );
});
