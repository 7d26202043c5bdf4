/**
 * What an OME-TIFF's OME-XML says about its pixels: the first image's <Pixels> sizes, dimension order and physical
 * pixel size, parsed with fast-xml-parser.
 */
import { XMLParser } from 'fast-xml-parser';

export interface OmePixels {
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  /** e.g. XYCZT: the order of the planes in the file, fastest first. */
  dimensionOrder: string;
  /** PhysicalSizeX/Y converted to micrometers, when both are given. */
  physicalSizeUm?: { x: number; y: number };
}

/** Micrometers per unit, for the length units OME allows that a microscope would use. */
const UM_PER_UNIT: Record<string, number> = { pm: 1e-6, 'Å': 1e-4, nm: 1e-3, 'µm': 1, um: 1, 'μm': 1, mm: 1e3, cm: 1e4, m: 1e6 };

type Attributes = Record<string, string | undefined>;

function physicalSize(pixels: Attributes, axis: 'X' | 'Y'): number | undefined {
  const value = Number(pixels[`PhysicalSize${axis}`]);
  // OME's default unit is the micrometer.
  const scale = UM_PER_UNIT[pixels[`PhysicalSize${axis}Unit`] ?? 'µm'];
  return Number.isFinite(value) && value > 0 && scale !== undefined ? value * scale : undefined;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, removeNSPrefix: true });

/** The first image's <Pixels>, or undefined when `description` is not OME-XML (or has no Pixels). */
export function omePixels(description: string): OmePixels | undefined {
  if (!description.includes('<OME')) return undefined;
  let document: { OME?: { Image?: unknown } };
  try {
    document = parser.parse(description) as typeof document;
  } catch {
    return undefined;
  }
  const image = Array.isArray(document.OME?.Image) ? document.OME.Image[0] : document.OME?.Image;
  const pixels = (image as { Pixels?: Attributes } | undefined)?.Pixels;
  if (!pixels || typeof pixels !== 'object') return undefined;
  const size = (name: string): number => {
    const value = Number(pixels[name]);
    return Number.isInteger(value) && value > 0 ? value : 1;
  };
  const x = physicalSize(pixels, 'X');
  const y = physicalSize(pixels, 'Y');
  return {
    sizeC: size('SizeC'),
    sizeZ: size('SizeZ'),
    sizeT: size('SizeT'),
    dimensionOrder: pixels.DimensionOrder ?? 'XYCZT',
    physicalSizeUm: x !== undefined && y !== undefined ? { x, y } : undefined,
  };
}
