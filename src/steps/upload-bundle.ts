// upload-bundle: puts a bundle (parts in parallel, manifest last) under
// bucket/prefix/<build id>/, skipping objects already stored with the same MD5, so a
// re-run after a crash sends only what is missing. The build id keeps every bundle's
// location unique, which makes "same location" mean "same bundle" when registering.
import { join } from 'node:path';
import { err, ok } from '../core/result.js';
import { describeCloudFailure } from '../cloud/aws-errors.js';
import { uploadBundle } from '../cloud/s3-upload.js';
import type { JsonValue, StepKind, StepOutputs } from '../plan/step.js';
import type { UploadParams } from '../plan/step-params.js';
import { targetLabel, type CloudSession } from './cloud-session.js';
import { stepFailure } from '../plan/step-failure.js';

/** The upstream step that holds the bundle: the one with a `manifest` artifact. */
export function bundleUpstream(
  needs: ReadonlyMap<string, StepOutputs & { dir: string }>,
): (StepOutputs & { dir: string }) | undefined {
  return [...needs.values()].find((n) => n.artifacts.manifest !== undefined);
}

export function uploadBundleKind(session: CloudSession): StepKind<UploadParams, 'upload-bundle'> {
  return {
    kind: 'upload-bundle',
    tools: [],
    describe: (step) => {
      const endpoint = targetLabel(step.params.target, 's3');
      return {
        summary: `upload the bundle to ${step.params.bucket}/${step.params.prefix}/<build>/ (${endpoint})`,
        commands: [],
        effects: [
          {
            kind: 'upload',
            bucket: step.params.bucket,
            prefix: `${step.params.prefix}/<build>`,
            endpoint,
          },
        ],
        notes: [
          `acl ${step.params.acl}; parts in parallel, the manifest last; parts already stored with the same MD5 are not sent again`,
        ],
      };
    },
    verify: async (_step, values, signal) => {
      const bucket = values.bucket;
      const key = values.manifestKey;
      if (typeof bucket !== 'string' || typeof key !== 'string') return undefined;
      const connection = await session.connection(signal);
      if (!connection.ok) return undefined;
      const listed = await connection.value.store.listObjects(bucket, key, signal);
      if (!listed.ok) return undefined;
      return listed.value.has(key)
        ? undefined
        : `the manifest ${bucket}/${key} is no longer in the bucket`;
    },
    run: async (ctx) => {
      const bundle = bundleUpstream(ctx.needs);
      const manifest = bundle?.artifacts.manifest;
      const buildId = bundle?.values.buildId;
      if (!bundle || manifest === undefined || typeof buildId !== 'string') {
        return err(
          stepFailure(
            'internal',
            'no-bundle',
            `step ${ctx.step.id} found no bundle among its needs`,
          ),
        );
      }
      const connection = await session.connection(ctx.signal);
      if (!connection.ok) return connection;
      const prefix = `${ctx.step.params.prefix}/${buildId}`;
      ctx.log(
        `uploading ${manifest} to ${ctx.step.params.bucket}/${prefix}/ at ${await session.label('s3', ctx.signal)}`,
      );
      const uploaded = await uploadBundle({
        store: connection.value.store,
        bucket: ctx.step.params.bucket,
        prefix,
        manifestPath: join(bundle.dir, manifest),
        partsDir: bundle.dir,
        acl: ctx.step.params.acl,
        concurrency: 4,
        signal: ctx.signal,
        onProgress: ctx.progress,
        log: ctx.log,
      });
      if (!uploaded.ok)
        return err(stepFailure('cloud', 'upload-failed', describeCloudFailure(uploaded.error)));
      const u = uploaded.value;
      ctx.log(`sent ${u.sent.length} object(s), ${u.skipped.length} already there`);
      const values: Record<string, JsonValue> = {
        bucket: ctx.step.params.bucket,
        prefix,
        manifestKey: u.manifestKey,
        imageLocation: `${ctx.step.params.bucket}/${u.manifestKey}`,
        buildId,
      };
      // The machine bundle's kernel and ramdisk ids travel on to its registration.
      for (const key of ['kernelId', 'ramdiskId', 'imageType'] as const) {
        const value = bundle.values[key];
        if (typeof value === 'string') values[key] = value;
      }
      return ok({ artifacts: {}, values });
    },
  };
}
