// The local cloud's image registry on disk: one JSON file replaced atomically on every
// change (mode 0600). Ids are eki-/eri-/emi- + 8 lower-case hex digits and never reused.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ImageType } from '../bundle/manifest.js';
import { writePrivateFile } from './private-files.js';

export interface ImageRecord {
  readonly imageId: string;
  readonly imageLocation: string;
  readonly ownerId: string;
  readonly state: 'available' | 'pending' | 'failed';
  readonly stateReason?: string;
  readonly isPublic: boolean;
  readonly architecture: string;
  readonly imageType: ImageType;
  /** Absent in registries written before hvm images existed: paravirtual. */
  readonly virtualizationType?: 'paravirtual' | 'hvm';
  readonly name: string;
  readonly description?: string;
  readonly kernelId?: string;
  readonly ramdiskId?: string;
  /** Machine images (absent in registries written before it was recorded). */
  readonly rootDeviceName?: string;
  readonly size: number;
  readonly bundledSize: number;
  readonly digest: string;
  /** SHA-256 of the manifest text, as Eucalyptus stores it. */
  readonly manifestSha256: string;
  readonly registeredAt: string;
  /** Until when (ms since epoch) DescribeImages says `pending` (tests of the waiter). */
  readonly pendingUntil?: number;
}

interface ImageFile {
  readonly version: 1;
  readonly images: ImageRecord[];
  /** Every id ever issued, so that a deregistered id is never issued again. */
  readonly issued: string[];
}

export const ID_PREFIX: Record<ImageType, string> = {
  kernel: 'eki',
  ramdisk: 'eri',
  machine: 'emi',
};

/**
 * Proposes an id for a new image of `type` (`eki-`/`eri-`/`emi-` + 8 hex digits); an id
 * already issued is refused and asked for again.
 */
export type NewImageId = (type: ImageType) => string;

const randomImageId: NewImageId = (type) => `${ID_PREFIX[type]}-${randomBytes(4).toString('hex')}`;

/** Registered images of one local cloud; one instance per file per process. */
export class ImageStore {
  readonly #path: string;
  #data: ImageFile;
  #writing: Promise<void> = Promise.resolve();
  readonly #newId: NewImageId;

  private constructor(path: string, data: ImageFile, newId: NewImageId) {
    this.#path = path;
    this.#data = data;
    this.#newId = newId;
  }

  static async open(path: string, newId: NewImageId = randomImageId): Promise<ImageStore> {
    try {
      const data = JSON.parse(await readFile(path, 'utf8')) as ImageFile;
      return new ImageStore(path, data, newId);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return new ImageStore(path, { version: 1, images: [], issued: [] }, newId);
    }
  }

  /** Every image, with `pending` turned into `available` once its time has come. */
  list(now: number = Date.now()): readonly ImageRecord[] {
    return this.#data.images.map((image) =>
      image.state === 'pending' && image.pendingUntil !== undefined && now >= image.pendingUntil
        ? { ...image, state: 'available' as const }
        : image,
    );
  }

  get(imageId: string): ImageRecord | undefined {
    return this.list().find((image) => image.imageId === imageId);
  }

  /** A fresh id for `type`, never issued before. */
  newId(type: ImageType): string {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const id = this.#newId(type);
      if (!this.#data.issued.includes(id)) return id;
    }
    throw new Error(`the image id generator keeps proposing ids already issued (${type})`);
  }

  async add(image: ImageRecord): Promise<void> {
    this.#data = {
      ...this.#data,
      images: [...this.#data.images, image],
      issued: [...this.#data.issued, image.imageId],
    };
    await this.#save();
  }

  async remove(imageId: string): Promise<boolean> {
    const before = this.#data.images.length;
    this.#data = { ...this.#data, images: this.#data.images.filter((i) => i.imageId !== imageId) };
    if (this.#data.images.length === before) return false;
    await this.#save();
    return true;
  }

  async update(
    imageId: string,
    change: Partial<Pick<ImageRecord, 'isPublic' | 'description'>>,
  ): Promise<boolean> {
    if (!this.#data.images.some((i) => i.imageId === imageId)) return false;
    this.#data = {
      ...this.#data,
      images: this.#data.images.map((i) => (i.imageId === imageId ? { ...i, ...change } : i)),
    };
    await this.#save();
    return true;
  }

  /** Writes are serialised so that the file always holds the latest state. */
  #save(): Promise<void> {
    const text = JSON.stringify(this.#data, null, 2);
    this.#writing = this.#writing.then(() => writePrivateFile(this.#path, text));
    return this.#writing;
  }
}
