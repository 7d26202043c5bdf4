/**
 * Progress of `zarr-stream write` on stderr. On a terminal: a live bar (cli-progress) with frames done of the total
 * (when known), MB/s of frame data stored, the compression ratio so far and the time left. Elsewhere (a log file, a
 * pipe): no control codes, a plain line every `lineSeconds` at most. Quiet: nothing.
 */
import { SingleBar } from 'cli-progress';

export interface ProgressFigures {
  /** Level-0 frames stored, as the metadata on disk says. */
  frames: number;
  /** Bytes handed to the store. */
  bytes: number;
  /** The frames' own bytes stored so far, every level (the compression ratio's numerator; no chunk padding). */
  dataBytes: number;
}

export interface ProgressReporter {
  update(figures: ProgressFigures): void;
  /** Leaves the terminal as it was (the bar's last state stays visible). */
  stop(): void;
}

export interface ProgressOptions {
  mode: 'bar' | 'lines' | 'none';
  /** Frames to write, when known (not for stdin). */
  total?: number;
  /** Bytes of one level-0 frame: MB/s counts frame data, not the padding of partly filled chunks. */
  frameBytes: number;
  stream?: NodeJS.WriteStream;
  lineSeconds?: number;
  now?: () => number;
}

/** The figures shown, as plain values (also what the plain lines print). */
export function progressText(figures: ProgressFigures, seconds: number, frameBytes: number): { mbps: string; ratio: string } {
  const mbps = seconds > 0 ? ((figures.frames * frameBytes) / 1e6 / seconds).toFixed(1) : '0.0';
  const ratio = figures.bytes > 0 && figures.dataBytes > 0 ? (figures.dataBytes / figures.bytes).toFixed(2) : '-';
  return { mbps, ratio };
}

export function progressReporter(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const stream = options.stream ?? process.stderr;
  if (options.mode === 'none') return { update: () => undefined, stop: () => undefined };
  if (options.mode === 'lines') {
    const every = (options.lineSeconds ?? 10) * 1000;
    let last = started;
    return {
      update(figures) {
        const at = now();
        if (at - last < every) return;
        last = at;
        const { mbps, ratio } = progressText(figures, (at - started) / 1000, options.frameBytes);
        stream.write(`zarr-stream: ${figures.frames}${options.total === undefined ? '' : `/${options.total}`} frames stored, ${mbps} MB/s, ratio ${ratio}\n`);
      },
      stop: () => undefined,
    };
  }
  const known = options.total !== undefined;
  const bar = new SingleBar({
    stream,
    // The time left is ours (frames left at the mean rate so far): cli-progress's own shows "NFs" before a rate.
    format: known ? 'writing [{bar}] {value}/{total} frames | {mbps} MB/s | ratio {ratio} | ETA {left}' : 'writing {value} frames | {mbps} MB/s | ratio {ratio}',
    barCompleteChar: '#',
    barIncompleteChar: '-',
    hideCursor: true,
    etaBuffer: 50,
    fps: 5,
  });
  bar.start(options.total ?? 0, 0, { mbps: '0.0', ratio: '-', left: '-' });
  return {
    update(figures) {
      const seconds = (now() - started) / 1000;
      bar.update(figures.frames, { ...progressText(figures, seconds, options.frameBytes), left: timeLeft(figures.frames, options.total, seconds) });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Frames left at the mean rate so far, as 42s, 3m05s or 2h07m; '-' before the first frame is stored. */
export function timeLeft(done: number, total: number | undefined, seconds: number): string {
  if (total === undefined || done <= 0 || seconds <= 0) return '-';
  const left = Math.max(0, Math.round(((total - done) * seconds) / done));
  if (left < 60) return `${left}s`;
  if (left < 3600) return `${Math.floor(left / 60)}m${String(left % 60).padStart(2, '0')}s`;
  return `${Math.floor(left / 3600)}h${String(Math.floor((left % 3600) / 60)).padStart(2, '0')}m`;
}
