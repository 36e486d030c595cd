// What the local cloud's EC2 action handlers share: the API's context, one authenticated
// call, and the XML answers (a `<Action>Response`, or EC2's error document).
// No routing and no actions here (ec2-api.ts, ec2-actions.ts).
import type { ServerResponse } from 'node:http';
import type { CheckContext, Ec2Error } from './bundle-checks.js';
import type { ImageStore } from './image-store.js';
import { xmlDocument, type XmlNode } from './xml.js';

export interface Ec2ApiContext {
  readonly images: ImageStore;
  readonly secretFor: (accessKeyId: string) => string | undefined;
  readonly accountFor: (accessKeyId: string) => string;
  /** Everything the bundle checks need except the image list (taken from `images`). */
  readonly checks: (accountId: string) => Omit<CheckContext, 'images'>;
  /** Images stay `pending` this long after registration (default 0: available at once). */
  readonly pendingMs?: number;
  /** The clock signatures are checked against (ms since the epoch). */
  readonly now: () => number;
  /**
   * The kernel and ramdisk a machine image gets when neither RegisterImage nor its
   * manifest names one, as Eucalyptus' `cloud.images.defaultkernel`/`defaultramdisk`
   * (unset: such a registration is refused with MissingParameter).
   */
  readonly defaultKernelId?: string;
  readonly defaultRamdiskId?: string;
}

/** One authenticated EC2 request, as every action handler gets it. */
export interface Ec2Call {
  readonly res: ServerResponse;
  readonly requestId: string;
  /** Query and form parameters, the body's winning over the query's on repeats. */
  readonly params: Map<string, string>;
  /** The account owning the caller's access key. */
  readonly account: string;
  readonly action: string;
  /** The XML namespace of the API version the caller asked for. */
  readonly ns: string;
}

export function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** EC2's error document with `error.status` (default 400). */
export function sendError(res: ServerResponse, error: Ec2Error, requestId: string): void {
  send(
    res,
    error.status ?? 400,
    xmlDocument('Response', undefined, [
      [
        'Errors',
        [
          [
            'Error',
            [
              ['Code', error.code],
              ['Message', error.message],
            ],
          ],
        ],
      ],
      ['RequestID', requestId],
    ]),
  );
}

/** 200 with `<ActionResponse>` holding the request id and `children`. */
export function reply(call: Ec2Call, children: XmlNode[]): void {
  send(
    call.res,
    200,
    xmlDocument(`${call.action}Response`, call.ns, [['requestId', call.requestId], ...children]),
  );
}
