/**
 * Text output of `context`: collection lines, search hits, the ingest progress bar.
 *
 * @module
 */
import type { IngestProgress } from "../context/ingest.ts";
import type { CollectionInfo, SearchHit } from "../context/types.ts";

/** One line per collection. */
export function formatCollection(c: CollectionInfo): string {
  return `${c.name}\t${c.documents} documents\t${c.chunks} chunks\t${c.dimension} dims ${c.metric}` +
    `\t${c.embedModel}\n`;
}

/** A hit: rank, score, source#seq, then the chunk text indented (one line, cut at 240). */
export function formatHit(h: SearchHit, rank: number): string {
  const text = h.text.replace(/\s+/g, " ").trim();
  const cut = text.length > 240 ? text.slice(0, 240) + "…" : text;
  return `${rank + 1}. ${h.score.toFixed(4)}  ${h.source}#${h.seq}\n   ${cut}\n`;
}

/** A carriage-return progress bar for stderr. */
export function progressLine(p: IngestProgress): string {
  const frac = p.bytes > 0 ? Math.min(1, p.bytesDone / p.bytes) : 1;
  const width = 24;
  const full = Math.round(frac * width);
  return `\r${p.source} [${"#".repeat(full)}${"-".repeat(width - full)}] ` +
    `${(frac * 100).toFixed(0)}% ${p.chunks} chunks`;
}
