/** An unlabelled folder of same-size images, such as `hw2_data/face/train` (64x64 RGB faces). */
import { ImageDataset, type ImageDatasetOptions } from './dataset';
import { listImages } from './digits';

export interface OpenImageFolderOptions extends Partial<Omit<ImageDatasetOptions, 'shape'>> {
  size?: number;
  channels?: 1 | 3;
  /** Use at most this many images (the first in name order), e.g. for a quick run. */
  limit?: number;
}

export async function openImageFolder(dir: string, options: OpenImageFolderOptions = {}): Promise<ImageDataset> {
  let files = await listImages(dir);
  if (options.limit !== undefined) files = files.slice(0, options.limit);
  const size = options.size ?? 64;
  return new ImageDataset(files, undefined, { ...options, shape: { height: size, width: size, channels: options.channels ?? 3 } });
}
