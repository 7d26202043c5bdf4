/**
 * Validators built from the official OME-NGFF JSON schemas vendored in test/fixtures/ngff/ (source and licence in
 * its README): strict 0.4 for v2 `.zattrs`, strict 0.5 for v3 `zarr.json` attributes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';

// ajv is CommonJS: under NodeNext its class is the default export's default.
const Ajv2020 = Ajv2020Module.default;

// dist/test/helpers/ -> the project root, whose test/fixtures hold the schemas (tsc does not copy JSON into dist).
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ngff = path.join(projectRoot, 'test', 'fixtures', 'ngff');
const schema = (file: string): object => JSON.parse(readFileSync(path.join(ngff, file), 'utf8'));

function validator(files: string[], strictId: string) {
  // The official strict schemas add `items`/`required` without repeating `type`: valid, but ajv's strictTypes warns.
  const ajv = new Ajv2020({ allErrors: true, strictTypes: false });
  for (const file of files) ajv.addSchema(schema(file));
  const validate = ajv.getSchema(strictId);
  if (!validate) throw new Error(`schema ${strictId} not found in ${ngff}`);
  return (data: unknown) => {
    const ok = validate(data) as boolean;
    return { ok, errors: ajv.errorsText(validate.errors) };
  };
}

export const validateV2 = validator(['0.4/image.schema.json', '0.4/strict_image.schema.json'], 'https://ngff.openmicroscopy.org/0.4/schemas/strict_image.schema');
export const validateV3 = validator(
  ['0.5/_version.schema.json', '0.5/image.schema.json', '0.5/strict_image.schema.json'],
  'https://ngff.openmicroscopy.org/0.5/schemas/strict_image.schema',
);

