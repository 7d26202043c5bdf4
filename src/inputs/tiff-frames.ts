/**
 * Frames from a multi-page TIFF or OME-TIFF, decoded page by page with geotiff (which reads a file lazily, so a
 * large stack never sits in memory). Shape and dtype come from the file: 8/16/32-bit integer and 32/64-bit float
 * greyscale pages. An OME-TIFF whose channels are stored next to each other (DimensionOrder XYC.., or XYZCT with one
 * z) becomes frames of SizeC planes; its PhysicalSizeX/Y become the pixel scale in micrometers. Z and T both become
 * the frame sequence, in file order (5-D arrays are for later).
 */
import { fromFile, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import type { DType } from '../dtype.js';
import type { Frame } from '../messages.js';
import { InputError } from './input-error.js';
import { omePixels } from './ome-xml.js';

export interface TiffInput {
  width: number;
  height: number;
  planes: number;
  dtype: DType;
  /** Frames in the file (pages / planes). */
  frames: number;
  /** From the OME-XML, when it gives the pixel size. */
  pixelScaleUm?: { x: number; y: number };
  /** Yields the frames in order, each page decoded when it is asked for. */
  read(): AsyncGenerator<Frame>;
}

/** The dtype of a page: BitsPerSample with SampleFormat (1 unsigned, 2 signed, 3 float). */
function pageDType(image: GeoTIFFImage): DType | string {
  const bits = image.getBitsPerSample();
  const format = image.getSampleFormat() ?? 1;
  const kind = format === 3 ? 'float' : format === 2 ? 'int' : format === 1 ? 'uint' : `sample format ${format} `;
  const dtype = `${kind}${bits}`;
  return ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'].includes(dtype) ? (dtype as DType) : dtype;
}

function describePage(image: GeoTIFFImage): { width: number; height: number; dtype: DType | string; samples: number } {
  return { width: image.getWidth(), height: image.getHeight(), dtype: pageDType(image), samples: image.getSamplesPerPixel() };
}

export async function openTiff(file: string): Promise<TiffInput> {
  let tiff: GeoTIFF;
  let first: GeoTIFFImage;
  let pages: number;
  try {
    tiff = await fromFile(file);
    pages = await tiff.getImageCount();
    first = await tiff.getImage(0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(file, undefined, code ? (error as Error).message : `not a readable TIFF file (${(error as Error).message})`);
  }
  const page0 = describePage(first);
  if (page0.samples !== 1) throw new InputError(file, 0, `pages have ${page0.samples} samples per pixel; only greyscale (1 sample) TIFFs are supported`);
  if (typeof page0.dtype !== 'string' || !/^(u?int(8|16|32)|float(32|64))$/.test(page0.dtype)) throw new InputError(file, 0, `pages are ${page0.dtype}; supported: 8/16/32-bit integers, float32, float64`);
  const dtype = page0.dtype as DType;
  const description = await first.fileDirectory.loadValue('ImageDescription');
  const ome = typeof description === 'string' ? omePixels(description) : undefined;
  let planes = 1;
  if (ome && ome.sizeC > 1) {
    // Channels are next to each other when every dimension stored faster than C has size 1 (XYCZT, or XYZCT with one z).
    const faster = ome.dimensionOrder.slice(2, ome.dimensionOrder.indexOf('C'));
    const sizes: Record<string, number> = { Z: ome.sizeZ, T: ome.sizeT };
    if (![...faster].every((axis) => sizes[axis] === 1)) throw new InputError(file, undefined, `OME-TIFF with ${ome.sizeC} channels in order ${ome.dimensionOrder}: only channels stored next to each other are supported (XYC.., or XYZCT with SizeZ 1)`);
    if (pages % ome.sizeC !== 0) throw new InputError(file, undefined, `${pages} pages do not divide into frames of ${ome.sizeC} channels`);
    planes = ome.sizeC;
  }
  const { width, height } = page0;
  return {
    width,
    height,
    planes,
    dtype,
    frames: pages / planes,
    pixelScaleUm: ome?.physicalSizeUm,
    async *read() {
      try {
        for (let frame = 0; frame < pages / planes; frame++) {
          const rasters: ArrayLike<number>[] = [];
          for (let plane = 0; plane < planes; plane++) {
            const index = frame * planes + plane;
            let page: ReturnType<typeof describePage>;
            let raster;
            try {
              const image = await tiff.getImage(index);
              page = describePage(image);
              if (page.width !== width || page.height !== height || page.dtype !== dtype || page.samples !== 1) {
                throw new InputError(file, frame, `page ${index} is ${page.width}x${page.height} ${page.dtype}${page.samples > 1 ? ` with ${page.samples} samples` : ''}, not ${width}x${height} ${dtype} like page 0`);
              }
              raster = await image.readRasters({ interleave: true });
            } catch (error) {
              if (error instanceof InputError) throw error;
              throw new InputError(file, frame, `page ${index} cannot be decoded (${(error as Error).message})`);
            }
            rasters.push(raster as unknown as ArrayLike<number>);
          }
          yield { data: planes === 1 ? (rasters[0] as Frame['data']) : joinPlanes(rasters as Frame['data'][]), width, height, planes, dtype };
        }
      } finally {
        await tiff.close?.();
      }
    },
  };
}

/** Channels stored page after page become one planar frame (c, y, x). */
function joinPlanes(pages: Frame['data'][]): Frame['data'] {
  const first = pages[0]!;
  const out = new (first.constructor as new (length: number) => Frame['data'])(first.length * pages.length);
  pages.forEach((page, plane) => (out as unknown as { set(a: ArrayLike<number>, o: number): void }).set(page as unknown as ArrayLike<number>, plane * first.length));
  return out;
}
