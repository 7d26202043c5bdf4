/** A frame source that cannot give its next frame: names the input and the frame index (when one is concerned). */
export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly frameIndex: number | undefined,
    reason: string,
  ) {
    super(`input ${input}${frameIndex === undefined ? '' : `, frame ${frameIndex}`}: ${reason}`);
    this.name = 'InputError';
  }
}
