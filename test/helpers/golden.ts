// The euca2ools golden bundles in ../shared/fixtures/euca2ools-golden (see its README).
import { readFileSync } from 'node:fs';
import { repoPath } from './paths.js';

/** A copy of ../shared/fixtures/euca2ools-golden (kept in the repo so that a fresh clone tests alone). */
export const GOLDEN_DIR = repoPath('test', 'fixtures', 'euca2ools-golden');

/** Facts from the golden README's table of expected values. */
export const GOLDEN_CASES = [
  {
    name: 'kernel',
    manifest: 'vmlinuz-golden.manifest.xml',
    image: 'vmlinuz-golden',
    type: 'kernel',
    size: 3145851,
    bundledSize: 3146576,
    parts: 1,
    digest: 'ef5dd55c8c0eb4cb507885cffcbe03af785342f7',
    key: '00112233445566778899aabbccddeeff',
    iv: '0f0e0d0c0b0a09080706050403020100',
    imageSha1: 'a54e0a31f643ce653155d4f2678c6bd681570d48',
  },
  {
    name: 'machine',
    manifest: 'machine-golden.img.manifest.xml',
    image: 'machine-golden.img',
    type: 'machine',
    size: 12582912,
    bundledSize: 1585632,
    parts: 1,
    digest: '64750ea28620edf7169d7fbf9d6b669b96fc5a9b',
    key: '22129091721ce905ea917aa641ae3cab',
    iv: '50030a85a77695e9fc9f505ea914e56f',
    imageSha1: 'a8d831def17682bfc8a0ddbded982d1b8f38d105',
  },
  {
    name: 'multipart',
    manifest: 'multipart-golden.img.manifest.xml',
    image: 'multipart-golden.img',
    type: 'machine',
    size: 26214400,
    bundledSize: 20985200,
    parts: 3,
    digest: '222e1b6991c10a73aab1b54db708458dafe6f143',
    key: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
    iv: '1f1e1d1c1b1a19181716151413121110',
    imageSha1: 'cf1b63461e129f503ccf34b9a2b17feeaf249ae3',
  },
  {
    name: 'ramdisk',
    manifest: 'initrd-golden.manifest.xml',
    image: 'initrd-golden',
    type: 'ramdisk',
    size: 1048575,
    bundledSize: 1048960,
    parts: 1,
    digest: '942180975bf21e16e869ac4d147f2c0d810e4659',
    key: '59c1defcb79f321649efe040bfee41ff',
    iv: 'e9a5f2c96b80e9217cf523ac0996c3a8',
    imageSha1: 'c2199f746bef552f6a4bd036299c10ee667e44a3',
  },
  {
    name: 'tiny-exact-multiple',
    manifest: 'tiny-golden.img.manifest.xml',
    image: 'tiny-golden.img',
    type: 'machine',
    size: 1000,
    bundledSize: 1200,
    parts: 4,
    digest: '44d04ddd41a4c3ba56bc270eed013e00de1ea62b',
    key: '55555555555555555555555555555555',
    iv: '66666666666666666666666666666666',
    imageSha1: 'c1e1e44012a39d744c17b7a4095f11d416187ca4',
  },
] as const;

export type GoldenCase = (typeof GOLDEN_CASES)[number];

/** Path of a file of a golden bundle. */
export function goldenBundlePath(c: GoldenCase, file: string): string {
  return `${GOLDEN_DIR}/bundles/${c.name}/${file}`;
}

/** A golden key or certificate: user-key, user-cert, cloud-key, cloud-cert. */
export function goldenKey(name: 'user-key' | 'user-cert' | 'cloud-key' | 'cloud-cert'): string {
  return readFileSync(`${GOLDEN_DIR}/keys/${name}.pem`, 'utf8');
}
