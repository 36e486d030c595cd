// The `publish` and `bundle` sections' cross-field checks: what each cloud needs (endpoints,
// account, certificates, hvm on AWS), what it ignores, a secret written in the recipe.
// Part of rules.ts.
import type { Severity } from '../core/diagnostic.js';
import { checkInputFile, type Report, type RuleContext } from './rule-context.js';

/** Publishing and bundling: what the cloud needs given, what it ignores, secrets not in git. */
export function checkPublishAndBundle(context: RuleContext, report: Report): void {
  const { raw, env } = context;
  const cloud = raw.publish?.cloud ?? 'local';
  const inputSeverity: Severity = context.strictInputs ? 'error' : 'warning';
  if (cloud === 'local') {
    for (const key of ['endpoints', 'credentials'] as const) {
      if (raw.publish?.[key] !== undefined) {
        report(
          'warning',
          ['publish', key],
          'ignored with `cloud: local` (the embedded cloud has its own)',
          { part: 'key' },
        );
      }
    }
    for (const key of ['account', 'cert', 'privateKey', 'cloudCert'] as const) {
      if (raw.bundle?.[key] !== undefined) {
        report(
          'warning',
          ['bundle', key],
          'ignored with `publish.cloud: local` (the embedded cloud issues its own keys)',
          { part: 'key' },
        );
      }
    }
  } else {
    if (cloud === 'aws' && raw.image?.virtualization !== 'hvm') {
      // AWS registers no kernel or ramdisk images for users, and current instance types are HVM only.
      report(
        'error',
        raw.image?.virtualization !== undefined
          ? ['image', 'virtualization']
          : ['publish', 'cloud'],
        'AWS cannot run paravirtual images with their own kernel and ramdisk (users cannot register kernels there, and current instance types are HVM only): choose hvm with `image: { virtualization: hvm }`',
        raw.image?.virtualization !== undefined ? {} : { part: 'value' },
      );
    }
    if (cloud === 'eucalyptus') {
      const endpoints: readonly ['ec2' | 's3', string][] = [
        ['ec2', 'EC2_URL'],
        ['s3', 'S3_URL'],
      ];
      for (const [key, variable] of endpoints) {
        if (raw.publish?.endpoints?.[key] === undefined && !env[variable]) {
          report(
            inputSeverity,
            ['publish', 'cloud'],
            `the ${key === 'ec2' ? 'compute' : 'object storage'} endpoint is not set: give \`publish.endpoints.${key}\` or export ${variable} (source your eucarc)`,
            { part: 'key' },
          );
        }
      }
    }
    const bundleInputs: readonly [
      'account' | 'cert' | 'privateKey' | 'cloudCert',
      string,
      string,
    ][] = [
      ['account', 'EC2_USER_ID', 'the account id'],
      ['cert', 'EC2_CERT', 'your certificate'],
      ['privateKey', 'EC2_PRIVATE_KEY', 'your private key'],
      ['cloudCert', 'EUCALYPTUS_CERT', "the cloud's certificate"],
    ];
    for (const [key, variable, what] of bundleInputs) {
      const given = raw.bundle?.[key];
      if (given === undefined && !env[variable]) {
        report(
          inputSeverity,
          raw.bundle ? ['bundle'] : ['publish', 'cloud'],
          `${what} is not set: give \`bundle.${key}\` or export ${variable} (source your eucarc)`,
          { part: 'key' },
        );
      } else if (given !== undefined && key !== 'account') {
        checkInputFile(context, report, ['bundle', key], given, what);
      }
    }
  }
  const secretPath = 'publish.credentials.secretKey';
  if (
    raw.publish?.credentials?.secretKey !== undefined &&
    !context.parsed.envPaths.has(secretPath)
  ) {
    report(
      'warning',
      ['publish', 'credentials', 'secretKey'],
      'a secret written in the recipe ends up in git: use ${env.EC2_SECRET_KEY}',
    );
  }
}
