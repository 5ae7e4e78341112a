/**
 * Multi-sequence graphs: the graph an architecture builds for `nTokens` rows of one sequence,
 * turned into the graph of the same rows split among `sequences` sequences. Row-wise ops
 * (products, norms, activations, adds) run over every row at once, unchanged; the ops that
 * depend on where a row sits — rope and embedding by position, attention over a KV cache, the
 * last-row pick of "last" logits — are marked `batched` and take each sequence's range of rows,
 * position and KV cache from the compute request's sequence table. Values computed from a
 * batched last_row get one row per sequence. A non-causal (encoder) attention attends over
 * each sequence's own rows only, and position embeddings restart at 0 per sequence.
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";
import { type Graph, type GraphNode, type GraphValue, nodeInputs } from "./graph.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The nodes that can be marked `batched`. */
export type BatchedNode = Extract<GraphNode, { batched?: boolean }>;

/** Whether a node's result depends on which sequence and position its rows belong to. */
function positional(n: GraphNode): n is BatchedNode {
  switch (n.op) {
    case "rope":
    case "attention":
    case "last_row":
      return true;
    case "embed":
      return n.index === "position";
    case "rms_norm":
    case "matmul":
    case "swiglu":
    case "geglu":
    case "moe":
    case "slice":
    case "layer_norm":
    case "gelu":
    case "tanh":
    case "scale":
    case "add":
      return false;
  }
}

/**
 * The graph of `g`'s rows split among `sequences` sequences (in row order, each at least one
 * row). Throws InvalidArgumentError for a sequence count outside 1..nTokens.
 */
export function batchGraph(g: Graph, sequences: number): Graph {
  if (!Number.isInteger(sequences) || sequences < 1 || sequences > g.nTokens) {
    throw new InvalidArgumentError(
      `a batch of ${g.nTokens} rows cannot hold ${sequences} sequences`,
      {
        field: "sequences",
        expected: `1..${g.nTokens}`,
        actual: sequences,
      },
    );
  }
  const values: Mutable<GraphValue>[] = g.values.map((v) => ({ ...v }));
  const perSequence = new Set<number>(); // values with one row per sequence
  const nodes = g.nodes.map((n): GraphNode => {
    const out = values[n.out];
    if (n.op === "last_row") {
      perSequence.add(n.out);
      out.rows = sequences;
    } else if (nodeInputs(n).some((v) => perSequence.has(v))) {
      perSequence.add(n.out);
      out.rows = sequences;
    }
    return positional(n) ? { ...n, batched: true } : n;
  });
  return { ...g, values, nodes, sequences };
}
